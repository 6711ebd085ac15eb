"""后台任务 (a job's progress and its file) and 定时任务 (the province admin's schedules)."""

from flask import abort, flash, request, send_file, url_for
from flask_login import current_user

from app.access import roles
from app.blueprints.jobs import bp, services
from app.blueprints.jobs.forms import form_data, form_params, schedule_form_class
from app.htmx import redirect_303, render
from app.jobs import job_file, job_get, jobs_recent

ADMINS = ("city_admin", "province_admin")


@bp.route("/<int:job_id>")
@roles(*ADMINS)
def show_job(job_id):
    """A job's progress (htmx polls the fragment every 2 s; without JS the page refreshes itself)
    and, when done, its file; 404 for another's job outside the admin's scope."""
    job = job_get(job_id, current_user) or abort(404)
    response = render(
        "jobs/show.html",
        "jobs/_partials/_progress.html",
        job=job,
        has_file=job_file(job) is not None,
        breadcrumb=[("后台任务", url_for("jobs.list_jobs")), (job.title, None)],
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/<int:job_id>/download")
@roles(*ADMINS)
def download_job_file(job_id):
    """The job's file; 404 while it is not ready, for another's job, or once it was cleared."""
    job = job_get(job_id, current_user) or abort(404)
    path = job_file(job) or abort(404)
    return send_file(path, mimetype=job.result_type, as_attachment=True, download_name=job.result_name)


@bp.route("/")
@roles(*ADMINS)
def list_jobs():
    """后台任务: the recent jobs of this admin and of admins of the same scope."""
    return render(
        "jobs/list.html",
        jobs=jobs_recent(user=current_user, limit=50),
        breadcrumb=[("系统管理", None), ("后台任务", None)],
    )


@bp.route("/schedules")
@roles("province_admin")
def list_schedules():
    """定时任务: each schedule, whether it is on, its parameters, last and next run."""
    return render(
        "jobs/schedules.html",
        items=services.schedules_all(),
        breadcrumb=[("系统管理", None), ("定时任务", None)],
    )


@bp.route("/schedules/<name>", methods=["GET", "POST"])
@roles("province_admin")
def edit_schedule(name):
    """修改定时任务; 404 for an unknown schedule, errors beside the fields with the input kept."""
    kind, row = services.schedule_get(name)
    if kind is None:
        abort(404)
    form_class = schedule_form_class(kind)
    if request.method == "GET":
        form = form_class(data=form_data(kind, services.schedule_params(row), row.enabled))
    else:
        form = form_class()
    if form.validate_on_submit():
        services.schedule_update(
            name=name, enabled=form.enabled.data, params=form_params(kind, form), actor=current_user
        )
        flash(f"已保存定时任务“{kind.label}”。", "success")
        return redirect_303(url_for("jobs.list_schedules"))
    return render(
        "jobs/schedule_edit.html",
        kind=kind,
        row=row,
        form=form,
        status=422 if form.errors else 200,
        breadcrumb=[("系统管理", None), ("定时任务", url_for("jobs.list_schedules")), (kind.label, None)],
    )
