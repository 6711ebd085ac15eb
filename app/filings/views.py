"""The engine's generic views, served for one filing kind's declaration (app/filings/wizard.py).

``register_views(bp, wizard)`` adds every endpoint of ``wizard.endpoints`` to the module's
blueprint with its access policy: list, create, steps, attachments, download, submit, view, delete,
withdraw, the review queue, the review decision and the export. The views are thin: the rules
(status, the module's locks, who may decide what) are the services'; a refusal comes back as a
domain error that a view turns into a message and a redirect, or a 404 / 409.
"""

from urllib.parse import parse_qsl

from flask import abort, flash, redirect, request, url_for
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from app.access import roles
from app.filings import services, workflow
from app.filings.attachments import ALLOWED_NOTICE, attachment_response
from app.filings.drafts import validate_step
from app.filings.export import QUEUE_EXPORT, export_params, export_title
from app.forms import EmptyForm
from app.htmx import is_htmx, redirect_303, render
from app.inputs import db_int, year_int
from app.jobs import job_start, job_token
from app.reference.services import cities, dict_items
from app.saved_forms import restored_formdata
from app.utils import paginate_list, to_local, utcnow

ADMINS = ("city_admin", "province_admin")


def register_views(bp, wizard):
    """Serve ``wizard``'s filing kind on ``bp`` (each endpoint name must be one of ``bp``'s)."""
    FilingViews(wizard).register(bp)


def show_context(wizard, filing):
    """The template context of 查看 (and of the pages built on it: 审核, a reviewer's 评分)."""
    pinned, comment = wizard.pinned(filing)
    return {
        "wizard": wizard,
        "filing": filing,
        "sections": wizard.hooks.detail_sections(wizard, filing),
        "detail_html": wizard.hooks.detail_html(wizard, filing),
        "review_notes": wizard.hooks.review_notes(wizard, filing),
        "pinned_fields": pinned,
        "return_comment": comment,
        "status_label": wizard.status_label,
        "workflow": workflow,
        "breadcrumb": wizard.breadcrumb(filing, f"查看{wizard.title}信息"),
        "form": EmptyForm(),
    }


class FilingViews:
    """The views of one filing kind; ``self.wizard`` is its declaration."""

    def __init__(self, wizard):
        self.wizard = wizard

    def register(self, bp):
        w = self.wizard
        owner = roles(*w.owner_roles)
        both = roles(*w.owner_roles, *ADMINS)
        admin = roles(*ADMINS)
        e = w.endpoints
        # (rule, endpoint, view, methods): each view gets its access policy below
        rules = [
            ("/", e.list, (owner, self.view_list), ["GET"]),
            ("/new", e.new, (owner, self.view_new), ["POST"]),
            ("/<int:filing_id>/step/<slug>", e.edit, (owner, self.view_step), ["GET", "POST"]),
            ("/<int:filing_id>/attachments", e.attachments, (owner, self.view_attachments), ["GET", "POST"]),
            (
                "/<int:filing_id>/attachments/<int:attachment_id>/delete",
                e.delete_attachment,
                (owner, self.view_delete_attachment),
                ["POST"],
            ),
            ("/<int:filing_id>/attachments/<int:attachment_id>", e.download, (both, self.view_download), ["GET"]),
            ("/<int:filing_id>/submit", e.submit, (owner, self.view_submit), ["POST"]),
            ("/<int:filing_id>", e.show, (both, self.view_show), ["GET"]),
            ("/<int:filing_id>/delete", e.delete, (owner, self.view_delete), ["POST"]),
            ("/<int:filing_id>/withdraw", e.withdraw, (owner, self.view_withdraw), ["GET", "POST"]),
            ("/review", e.queue, (admin, self.view_queue), ["GET"]),
            ("/review/approve", e.approve_selected, (admin, self.view_approve_selected), ["POST"]),
            ("/<int:filing_id>/review", e.review, (admin, self.view_review), ["GET", "POST"]),
            ("/export.xlsx", e.export, (admin, self.view_export), ["GET", "POST"]),
        ]
        for rule, endpoint, (policy, view), methods in rules:
            blueprint, _, name = endpoint.partition(".")
            if blueprint != bp.name:
                raise ValueError(f"{endpoint} is not an endpoint of the {bp.name} blueprint")
            bp.add_url_rule(w.url_prefix + rule, name, policy(_named(view, name)), methods=methods)

    def view_list(self):
        """List the owner's filings of this kind; filters by year and status."""
        w = self.wizard
        year = request.args.get("year", type=year_int)
        status = request.args.get("status") or None
        if status not in workflow.STATUS_LABELS:
            status = None
        page = services.owner_filings(
            wizard=w, user=current_user, year=year, status=status, page=request.args.get("page", 1, type=db_int)
        )
        extra = w.hooks.list_context(w, user=current_user)  # may give current_round and closed_message
        if "current_round" in extra:
            current_round = extra["current_round"]
        else:
            current_round = services.round_current(w.round_kind)
        context = dict(
            wizard=w,
            page=page,
            year=year,
            chosen_status=status,
            current_round=current_round,
            closed_message=None
            if current_round or "closed_message" in extra
            else w.hooks.closed_message(w, user=current_user),
            status_label=w.status_label,
            workflow=workflow,
            form=EmptyForm(),
            locked_rows=w.hooks.locked_rows(w, page.items),
            breadcrumb=[(w.breadcrumb_root, None), (w.breadcrumb_section, None)]
            + ([(w.list_label, None)] if w.list_label else []),
        )
        context.update(extra)
        return render(w.list_template, **context)

    def view_new(self):
        """Create a draft (in the chosen ``round_id`` when given); refused outside an open round or
        when one exists already (with a link to it)."""
        w = self.wizard
        form = EmptyForm()
        if not form.validate_on_submit():
            abort(400)
        try:
            filing = services.filing_create(
                wizard=w, user=current_user, round_id=request.form.get("round_id", type=db_int)
            )
        except services.FilingError as error:
            flash(error.flash_message(), "error")
            return redirect_303(url_for(w.endpoints.list))
        return redirect_303(w.step_url(filing, w.steps[0].slug))

    def _not_editable(self, filing, refused):
        """Where an owner who may not change the filing goes: 撤回 first for one waiting for
        review, else 查看 with the reason."""
        if refused.withdrawable:
            return redirect(url_for(self.wizard.endpoints.withdraw, filing_id=filing.id))
        flash(str(refused), "warning")
        return redirect(url_for(self.wizard.endpoints.show, filing_id=filing.id))

    def view_step(self, filing_id, slug):
        """Show or save one step (下一步 checks everything; 保存草稿 keeps an unfinished step, refusing
        only what is wrong); 404 for another's filing, redirect when skipping ahead, 422 with the
        errors, 409 when saved elsewhere since."""
        w = self.wizard
        filing = services.owned_filing_or_404(w, filing_id, current_user)
        step = w.step(slug)
        if step is None:
            abort(404)
        try:
            services.filing_check_editable(w, filing)
        except services.NotEditable as refused:
            return self._not_editable(filing, refused)
        first = w.first_incomplete(filing)
        if w.slugs().index(slug) > w.slugs().index(first):
            return self._ahead(filing, first, step.title)
        kept = restored_formdata() if request.method == "GET" else None
        if kept is not None:  # typed before the session ended: shown again, not saved yet
            form = step.form_class(filing)(formdata=kept)
            if step.prepare:
                step.prepare(form, filing)
            return self._render_step(filing, slug, form=form)
        form = step.make_form(filing, submitted=request.method == "POST")
        draft = request.method == "POST" and bool(request.form.get("save_draft"))
        valid, missing = validate_step(form, draft=draft) if request.method == "POST" else (False, [])
        if valid:
            try:
                saved_at = services.filing_save_step(
                    filing=filing,
                    step=step,
                    form=form,
                    wizard=w,
                    expected_version=request.form.get("version", type=db_int),
                    complete=not missing,
                )
            except services.EditConflict as conflict:
                # What this user typed stays in the form; sending it again keeps theirs (the form
                # now carries the newer version), 使用最新的值 reloads what is saved.
                return self._render_step(filing, slug, form=form, status=409, conflict=conflict)
            except services.NotEditable as refused:  # it changed since the check above
                return self._not_editable(filing, refused)
            saved = _saved_note(step.title, to_local(saved_at or utcnow()), missing)
            # 保存草稿 stays on the step; 下一步 moves on; both say what was saved and when
            following = slug if draft else w.slugs()[w.slugs().index(slug) + 1]
            kind = "warning" if missing else "success"  # saved, but 下一步 will still ask for these
            if is_htmx():
                return self._render_step(filing, following, push=following != slug, saved_note=saved, saved_kind=kind)
            flash(saved, kind)
            return redirect_303(w.step_url_by_id(filing_id, following))
        status = 422 if request.method == "POST" else 200
        return self._render_step(filing, slug, form=form, status=status)

    def _ahead(self, filing, first, wanted):
        """A step opened before the ones ahead of it are done: to the first incomplete, saying why."""
        w = self.wizard
        title = w.step(first).title if w.step(first) else w.attachment_title
        flash(f"请先完成“{title}”并点击下一步，再填写“{wanted}”。", "info")
        return redirect(w.step_url(filing, first))

    def _step_context(self, filing, current):
        w = self.wizard
        pinned, comment = w.pinned(filing)
        return {
            "wizard": w,
            "filing": filing,
            "tabs": w.tabs(filing, current),
            "current": current,
            "pinned_fields": pinned,
            "return_comment": comment,
            # what the 退回 asked and what the owner changed since, as the reviewer will see it
            "revision": services.filing_revision(w, filing) if filing.status == workflow.RETURNED else None,
            "breadcrumb": w.breadcrumb(filing),
            "status_label": w.status_label,
            "workflow": workflow,
        }

    def _render_step(self, filing, slug, form=None, status=200, push=False, **extra):
        w = self.wizard
        context = self._step_context(filing, slug)
        if slug == w.ATTACHMENTS:
            context.update(self._attachment_context(filing))
        else:
            step = w.step(slug)
            context["step"] = step
            context["form"] = form or step.make_form(filing)
            if step.context:
                context.update(step.context(filing))
        context.update(extra)
        return render(
            "filings/step.html",
            "filings/_partials/_wizard.html",
            status=status,
            push_url=w.step_url(filing, slug) if push else None,
            **context,
        )

    def _attachment_context(self, filing):
        page = paginate_list(filing.attachments, page=request.args.get("page", 1, type=db_int), per_page=20)
        return {
            "attachments_page": page,
            "allowed_notice": ALLOWED_NOTICE,
            "upload_form": EmptyForm(),
            "missing": services.filing_missing(wizard=self.wizard, filing=filing),
        }

    def view_attachments(self, filing_id):
        """The attachment step: list, upload (POST); bad files get a message, good ones are kept."""
        w = self.wizard
        filing = services.owned_filing_or_404(w, filing_id, current_user)
        try:
            services.filing_check_editable(w, filing)
        except services.NotEditable as refused:
            return self._not_editable(filing, refused)
        first = w.first_incomplete(filing)
        if first != w.ATTACHMENTS:
            return self._ahead(filing, first, w.attachment_title)
        if request.method == "GET":
            return self._render_step(filing, w.ATTACHMENTS)
        form = EmptyForm()
        if not form.validate_on_submit():
            abort(400)
        try:
            saved, errors = services.filing_add_attachments(
                filing=filing, files=request.files.getlist("files"), user=current_user, wizard=w
            )
        except services.FilingError as error:
            saved, errors = [], [str(error)]
        if not is_htmx():
            for name in saved:
                flash(f"已上传：{name}", "success")
            for error in errors:
                flash(error, "error")
            return redirect_303(w.step_url_by_id(filing_id, w.ATTACHMENTS))
        return self._render_step(
            filing,
            w.ATTACHMENTS,
            status=422 if errors and not saved else 200,
            upload_saved=saved,
            upload_errors=errors,
        )

    def view_delete_attachment(self, filing_id, attachment_id):
        """Delete one attachment while the filing is editable; 404 for another's file."""
        w = self.wizard
        filing = services.owned_filing_or_404(w, filing_id, current_user)
        if not EmptyForm().validate_on_submit():
            abort(400)
        attachment = services.filing_attachment_or_none(filing, attachment_id)
        if attachment is None:
            # a repeated 删除 (double click, retry): the first one removed it; same page as then
            if is_htmx():
                return self._render_step(filing, w.ATTACHMENTS, upload_saved=[], upload_errors=[])
            flash("该附件已删除。", "success")
            return redirect_303(w.step_url(filing, w.ATTACHMENTS))
        if request.form.get("confirmed") != "1":
            # without JavaScript 删除 asks on a page of its own; with it the browser asked (app.js)
            return render(
                "filings/confirm_delete.html",
                "filings/_partials/_confirm_delete.html",
                wizard=w,
                filing=filing,
                attachment=attachment,
            )
        try:
            services.filing_delete_attachment(filing=filing, attachment=attachment, user=current_user, wizard=w)
            message = (f"已删除：{attachment.original_name}", "success")
        except services.FilingError as error:
            message = (str(error), "error")
        if is_htmx():
            done = message[1] == "success"
            return self._render_step(
                filing,
                w.ATTACHMENTS,
                upload_saved=[],
                upload_deleted=[attachment.original_name] if done else [],
                upload_errors=[] if done else [message[0]],
            )
        flash(*message)
        return redirect_303(w.step_url_by_id(filing_id, w.ATTACHMENTS))

    def view_download(self, filing_id, attachment_id):
        """Send an attachment to its owner or a reviewer in scope; 404 otherwise."""
        filing = services.visible_filing_or_404(self.wizard, filing_id, current_user)
        return attachment_response(services.filing_attachment_or_404(filing, attachment_id))

    def view_submit(self, filing_id):
        """Submit: refused with the reasons when a step or the attachments are incomplete."""
        w = self.wizard
        filing = services.owned_filing_or_404(w, filing_id, current_user)
        if not EmptyForm().validate_on_submit():
            abort(400)
        try:
            services.filing_transition(wizard=w, filing=filing, action="submit", actor=current_user)
        except services.AlreadyDone:
            pass  # a double click or a retry: the first one submitted it; same result page
        except services.StaleState as error:
            flash(str(error), "warning")
            return redirect_303(url_for(w.endpoints.show, filing_id=filing.id))
        except services.FilingError as error:
            flash(str(error), "error")
            return redirect_303(w.step_url(filing, w.first_incomplete(filing)))
        flash(f"{w.title}已提交，请等待审核。", "success")
        return redirect_303(url_for(w.endpoints.list))

    def view_show(self, filing_id):
        """查看: every field with its unit, the attachments and the review history."""
        filing = services.visible_filing_or_404(self.wizard, filing_id, current_user)
        return render("filings/show.html", **show_context(self.wizard, filing))

    def view_delete(self, filing_id):
        """Delete a draft; other statuses are refused with a message. A repeat (the draft is gone
        already) lands on the list as the first one did."""
        w = self.wizard
        if not EmptyForm().validate_on_submit():
            abort(400)
        filing = services.owned_filing_or_none(w, filing_id, current_user)
        if filing is None:
            if not services.deleted_by(w, filing_id, current_user):
                abort(404)
            flash(f"已删除该{w.title}草稿。", "success")
            return redirect_303(url_for(w.endpoints.list))
        try:
            services.filing_delete(wizard=w, filing=filing, user=current_user)
            flash(f"已删除该{w.title}草稿。", "success")
        except services.FilingError as error:
            flash(str(error), "error")
        return redirect_303(url_for(w.endpoints.list))

    def view_withdraw(self, filing_id):
        """编辑 of a submitted filing no reviewer has acted on: confirm, then back to draft; refused
        with a message when the module locks it (e.g. after the deadline)."""
        w = self.wizard
        filing = services.owned_filing_or_404(w, filing_id, current_user)
        form = EmptyForm()
        posted = request.method == "POST" and form.validate_on_submit()
        # The service owns the rules (status, the module's lock): the confirmation page is shown
        # only when the 撤回 itself would be allowed. A repeated 撤回 by the owner is AlreadyDone
        # and lands on the same page as the first.
        try:
            services.filing_transition(
                wizard=w, filing=filing, action="withdraw", actor=current_user, commit=posted, dry_run=not posted
            )
        except services.AlreadyDone:
            if not posted:
                return redirect(w.step_url(filing, w.steps[0].slug))
        except services.FilingError as error:
            if posted or filing.status == workflow.SUBMITTED:
                flash(str(error), "warning")
            return redirect(url_for(w.endpoints.show, filing_id=filing.id))
        if posted:
            flash("已撤回为草稿，修改后请重新提交。", "success")
            return redirect_303(w.step_url_by_id(filing_id, w.steps[0].slug))
        return render("filings/withdraw.html", wizard=w, filing=filing, form=form, breadcrumb=w.breadcrumb(filing))

    def _queue_filters(self, args, default_status=True):
        """The review queue's filters and order from query arguments (bad values ignored). Without a
        ``status`` the queue shows what waits for this reviewer (``default_status``), the export
        everything."""
        w = self.wizard
        status = args.get("status")
        if status is None and default_status:
            status = services.waiting_status(w, current_user)
        if status and status not in workflow.STATUS_LABELS:
            status = ""
        sort = args.get("sort") if args.get("sort") in services.QUEUE_SORTS else "submitted"
        return dict(
            round_id=args.get("round_id", type=db_int),
            city_code=args.get("city_code") or None,
            status=status or None,
            keyword=(args.get("q") or "").strip() or None,
            type_id=args.get("type_id", type=db_int),
            late=services.LATE_CHOICES.get(args.get("late")),  # 报送情况: 逾期报送 / 按时报送
            sort=sort,
            descending=args.get("dir", "desc" if sort == "submitted" else "asc") != "asc",
        )

    def view_queue(self):
        """Review queue for this admin's level and scope, with filters."""
        w = self.wizard
        args = request.args
        filters = self._queue_filters(args)
        status, sort, descending = filters["status"] or "", filters["sort"], filters["descending"]
        per_page = args.get("per_page", type=db_int)
        per_page = per_page if per_page in services.PAGE_SIZES else services.PAGE_SIZES[0]
        user = current_user._get_current_object()  # asked once per row below, not through the proxy
        waiting = services.waiting_count(wizard=w, user=user)
        page = services.review_filings(
            wizard=w,
            user=user,
            page=args.get("page", 1, type=db_int),
            per_page=per_page,
            waiting=waiting,
            **filters,
        )
        return render(
            "filings/review_queue.html",
            wizard=w,
            page=page,
            chosen_status=status,
            rounds=services.rounds_of(w.round_kind),
            cities=cities(),
            institution_types=dict_items("institution_type") if w.needs_institution else [],
            status_label=w.status_label,
            workflow=workflow,
            waiting=waiting,
            sort=sort,
            descending=descending,
            per_page=per_page,
            page_sizes=services.PAGE_SIZES,
            can_approve={f.id for f in page.items if services.approval_for(wizard=w, filing=f, user=user) is not None},
            late_ids=services.late_ids(wizard=w, ids=[f.id for f in page.items]),
            chosen_late=args.get("late") if args.get("late") in services.LATE_CHOICES else "",
            export_args=self._export_args(filters),
            export_token=job_token(),
            breadcrumb=[("审核管理", None), (f"{w.title}审核", None)],
        )

    def view_approve_selected(self):
        """通过所选: each chosen filing approved by its own audited transition; what could not be
        approved is listed with the reason. Back to the queue as it was (its filters are kept)."""
        w = self.wizard
        if not EmptyForm().validate_on_submit():
            abort(400)
        ids = []
        for value in request.form.getlist("ids"):
            try:
                ids.append(db_int(value))
            except ValueError:
                continue  # not an id of ours: nothing to approve
        back = request.form.get("back") or ""
        target = url_for(w.endpoints.queue) + (back if back.startswith("?") else "")
        if not ids:
            flash("请先勾选要通过的记录。", "warning")
            return redirect_303(target)
        approved, skipped = services.filings_approve(
            wizard=w, ids=ids, actor=current_user, comment=request.form.get("comment")
        )
        if approved:
            flash(f"已通过 {len(approved)} 项{w.title}。", "success")
        for filing, why in skipped:
            name = filing.institution.name if getattr(filing, "institution", None) else f"#{filing}"
            flash(f"“{name}”未处理：{why}。", "warning")
        return redirect_303(target)

    def view_review(self, filing_id):
        """Review page: the filing, its history and the decisions this admin may make."""
        w = self.wizard
        filing = services.visible_filing_or_404(w, filing_id, current_user)
        error = None
        if request.method == "POST":
            if not EmptyForm().validate_on_submit():
                abort(400)
            action = request.form.get("action", "")
            _, following = self._neighbours(filing)  # as the queue stood before this decision
            try:
                transition = services.filing_review(
                    wizard=w,
                    filing=filing,
                    action=action,
                    actor=current_user,
                    comment=request.form.get("comment"),
                    pinned=request.form.getlist("pinned"),
                )
            except services.AlreadyDone:
                # the same decision sent twice (double click, retry): applied once; same result page
                transition = workflow.find(w.levels, action)
            except (services.FilingError, workflow.TransitionError) as exc:
                error = str(exc)
            if error is None:  # the state it is in now is the transition's (a repeat found it there)
                flash(
                    f"已{w.action_label(transition)}：{w.title}状态为“{w.status_label(transition.target)}”。", "success"
                )
                if following is not None:  # on to the next one of the queue the reviewer came from
                    return redirect_303(url_for(w.endpoints.review, filing_id=following, back=self._back() or None))
                return redirect_303(url_for(w.endpoints.queue) + self._back())
        context = show_context(w, filing)
        previous, following = self._neighbours(filing)
        # a resubmission: what the last 退回 pointed at, and what the owner changed since (the
        # owner sees the same list while editing the returned filing)
        revision = services.filing_revision(w, filing)
        context["pinned_fields"] = revision.pinned_keys
        context["return_comment"] = None  # the revision says it, with what it pointed at
        context.update(
            revision=revision,
            actions=services.review_actions(wizard=w, filing=filing, user=current_user),
            error=error,
            comment=request.form.get("comment", ""),
            chosen_pins=set(request.form.getlist("pinned")),
            previous_id=previous,
            next_id=following,
            back=self._back(),
            breadcrumb=[
                ("审核管理", None),
                (f"{w.title}审核", url_for(w.endpoints.queue) + self._back()),
                ("审核", None),
            ],
        )
        return render("filings/review.html", status=422 if error else 200, **context)

    def _back(self):
        """The query string of the queue the reviewer came from ("?status=...&sort=..."), or ""."""
        back = request.values.get("back") or ""
        return back if back.startswith("?") and len(back) < 500 else ""

    def _neighbours(self, filing):
        """(previous id, next id) of ``filing`` in the queue the reviewer came from (its filters
        and order); (None, None) when it came from elsewhere."""
        back = self._back()
        if not back:
            return None, None
        filters = self._queue_filters(MultiDict(parse_qsl(back[1:])))
        return services.queue_neighbours(wizard=self.wizard, user=current_user, filing_id=filing.id, **filters)

    def _export_args(self, filters):
        """The query arguments of 导出Excel for the queue as shown: its filters (the status it
        shows even when it is the default one, or 全部) and its order."""
        args = {
            "round_id": filters["round_id"],
            "city_code": filters["city_code"],
            "status": filters["status"] or "",
            "type_id": filters["type_id"],
            "late": {True: "1", False: "0"}.get(filters["late"]),
            "q": filters["keyword"],
            "sort": filters["sort"],
            "dir": "desc" if filters["descending"] else "asc",
        }
        return {key: value for key, value in args.items() if value is not None}

    def view_export(self):
        """导出Excel of the review queue as shown (its filters and order, in the query): a POST starts
        the export job and answers 303 to its page (a repeated POST lands on the same job); a GET
        (an old link, no JavaScript needed) asks first, on a page whose button posts. 400 without
        the CSRF token. Without arguments: every filing in the admin's scope, as before."""
        w = self.wizard
        filters = self._queue_filters(request.args, default_status=False)
        if "sort" not in request.args:
            filters["sort"] = None  # no order asked for: by 市州, then as filed
        back = url_for(w.endpoints.queue, **self._export_args(filters))
        if request.method == "GET":
            return render(
                "filings/export_confirm.html",
                wizard=w,
                title=export_title(w, filters),
                action=url_for(w.endpoints.export)
                + (f"?{request.query_string.decode()}" if request.query_string else ""),
                back=back,
                token=job_token(),
                breadcrumb=[("审核管理", None), (f"{w.title}审核", back), ("导出Excel", None)],
            )
        if not EmptyForm().validate_on_submit():
            abort(400)
        criteria = w.export_criteria(request.args) if w.export_criteria else {}
        job = job_start(
            kind=QUEUE_EXPORT,
            params=export_params(w, filters, criteria, back),
            user=current_user,
            title=export_title(w, filters),
            token=request.form.get("token"),
        )
        return redirect_303(url_for("jobs.show_job", job_id=job.id))


def _saved_note(title, when, missing):
    """“基本信息”已保存 14:05。, or for a draft still unfinished what it lacks (up to four named)."""
    if not missing:
        return f"“{title}”已保存 {when:%H:%M}。"
    named = "、".join(missing[:4]) + ("等" if len(missing) > 4 else "")
    return (
        f"“{title}”已保存草稿 {when:%H:%M}，尚有 {len(missing)} 项必填内容未填写完整（{named}），点击“下一步”前需补全。"
    )


def _named(view, endpoint):
    """Bound methods need a distinct __name__ per endpoint; the access policy stays on it."""

    def handler(**kwargs):
        return view(**kwargs)

    handler.__name__ = endpoint
    handler.__doc__ = view.__doc__
    return handler
