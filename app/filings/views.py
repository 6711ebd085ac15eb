"""The generic views of a filing module, mixed into Wizard (app/filings/wizard.py).

``register(bp)`` adds every endpoint with its access policy: list, create, steps, attachments,
download, submit, view, delete, withdraw, the review queue, the review decision and the export.
"""

from flask import abort, flash, redirect, request, url_for
from flask_login import current_user

from app.access import roles
from app.cache import cached_page
from app.extensions import db
from app.filings import services, workflow
from app.filings.attachments import ALLOWED_NOTICE, attachment_response
from app.filings.export import export_filings
from app.filings.models import Round
from app.forms import EmptyForm
from app.htmx import is_htmx, redirect_303, render
from app.inputs import db_int, year_int
from app.reference.services import cities
from app.utils import paginate_list

ADMINS = ("city_admin", "province_admin")


class WizardViews:
    """Views and view helpers; ``self`` is the module's Wizard declaration."""

    def register(self, bp):
        owner = roles(*self.owner_roles)
        both = roles(*self.owner_roles, *ADMINS)
        admin = roles(*ADMINS)
        e = self.endpoints
        list_, step, queue = cached_page(self.view_list), cached_page(self.view_step), cached_page(self.view_queue)
        # (rule, endpoint, view, methods): each view gets its access policy below; the lists and
        # the steps are served from the page cache (app/cache.py) until something is written
        rules = [
            ("/", e.list, (owner, list_), ["GET"]),
            ("/new", e.new, (owner, self.view_new), ["POST"]),
            ("/<int:filing_id>/step/<slug>", e.edit, (owner, step), ["GET", "POST"]),
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
            ("/review", e.queue, (admin, queue), ["GET"]),
            ("/<int:filing_id>/review", e.review, (admin, self.view_review), ["GET", "POST"]),
            ("/export.xlsx", e.export, (admin, self.view_export), ["GET"]),
        ]
        for rule, endpoint, (policy, view), methods in rules:
            blueprint, _, name = endpoint.partition(".")
            if blueprint != bp.name:
                raise ValueError(f"{endpoint} is not an endpoint of the {bp.name} blueprint")
            bp.add_url_rule(self.url_prefix + rule, name, policy(_named(view, name)), methods=methods)

    def audit_labels(self):
        """({action code: name}, {model name: name}) of this kind, for the 操作日志 page."""
        actions = {f"{self.kind}.create": f"新建{self.title}", f"{self.kind}.delete": f"删除{self.title}"}
        for transition in workflow.transitions(self.levels):
            actions.setdefault(f"{self.kind}.{transition.name}", f"{self.title}：{self.action_label(transition)}")
        return actions, {self.model.__name__: self.title}

    def view_list(self):
        """List the owner's filings of this kind; filters by year and status."""
        year = request.args.get("year", type=year_int)
        status = request.args.get("status") or None
        if status not in workflow.STATUS_LABELS:
            status = None
        page = services.owner_filings(
            wizard=self, user=current_user, year=year, status=status, page=request.args.get("page", 1, type=db_int)
        )
        current_round = services.round_current(self.round_kind)
        context = dict(
            wizard=self,
            page=page,
            year=year,
            chosen_status=status,
            current_round=current_round,
            closed_message=None if current_round else self.closed_message(user=current_user),
            status_label=self.status_label,
            workflow=workflow,
            form=EmptyForm(),
            breadcrumb=[(self.breadcrumb_root, None), (self.breadcrumb_section, None)]
            + ([(self.list_label, None)] if self.list_label else []),
        )
        context.update(self.list_context(user=current_user))  # may replace current_round, closed_message
        return render(self.list_template, **context)

    def view_new(self):
        """Create a draft (in the chosen ``round_id`` when given); refused outside an open round or
        when one exists already (with a link to it)."""
        form = EmptyForm()
        if not form.validate_on_submit():
            abort(400)
        try:
            filing = services.filing_create(
                wizard=self, user=current_user, round_id=request.form.get("round_id", type=db_int)
            )
        except services.FilingError as error:
            flash(error.flash_message(), "error")
            return redirect_303(url_for(self.endpoints.list))
        return redirect_303(self.step_url(filing, self.steps[0].slug))

    def _editable_or_redirect(self, filing):
        locked = self.locked_message(filing) if filing.status in (*workflow.EDITABLE, workflow.SUBMITTED) else None
        if locked:
            flash(locked, "warning")
            return redirect(url_for(self.endpoints.show, filing_id=filing.id))
        if filing.status in workflow.EDITABLE:
            return None
        if filing.status == workflow.SUBMITTED:
            return redirect(url_for(self.endpoints.withdraw, filing_id=filing.id))
        flash(f"该{self.title}当前状态为“{self.status_label(filing.status)}”，不能修改。", "warning")
        return redirect(url_for(self.endpoints.show, filing_id=filing.id))

    def view_step(self, filing_id, slug):
        """Show or save one step; 404 for another's filing, redirect when skipping ahead."""
        filing = services.owned_filing_or_404(self, filing_id, current_user)
        step = self.step(slug)
        if step is None:
            abort(404)
        blocked = self._editable_or_redirect(filing)
        if blocked:
            return blocked
        first = self.first_incomplete(filing)
        if self.slugs().index(slug) > self.slugs().index(first):
            return redirect(self.step_url(filing, first))
        form = step.make_form(filing, submitted=request.method == "POST")
        if request.method == "POST" and form.validate():
            try:
                services.filing_save_step(
                    filing=filing,
                    step=step,
                    form=form,
                    wizard=self,
                    expected_version=request.form.get("version", type=db_int),
                )
            except services.EditConflict as conflict:
                # What this user typed stays in the form; sending it again keeps theirs (the form
                # now carries the newer version), 使用最新的值 reloads what is saved.
                return self._render_step(filing, slug, form=form, status=409, conflict=conflict)
            except services.FilingError as error:
                flash(str(error), "warning")
                return redirect(url_for(self.endpoints.show, filing_id=filing.id))
            following = self.slugs()[self.slugs().index(slug) + 1]
            if is_htmx():
                return self._render_step(filing, following, push=True)
            return redirect_303(self.step_url(filing, following))
        status = 422 if request.method == "POST" else 200
        return self._render_step(filing, slug, form=form, status=status)

    def _render_step(self, filing, slug, form=None, status=200, push=False, **extra):
        context = self.common(filing, slug)
        if slug == self.ATTACHMENTS:
            context.update(self._attachment_context(filing))
        else:
            step = self.step(slug)
            context["step"] = step
            context["form"] = form or step.make_form(filing)
            if step.context:
                context.update(step.context(filing))
        context.update(extra)
        return render(
            "filings/step.html",
            "filings/_partials/_wizard.html",
            status=status,
            push_url=self.step_url(filing, slug) if push else None,
            **context,
        )

    def _attachment_context(self, filing):
        page = paginate_list(filing.attachments, page=request.args.get("page", 1, type=db_int), per_page=20)
        return {
            "attachments_page": page,
            "allowed_notice": ALLOWED_NOTICE,
            "upload_form": EmptyForm(),
            "missing": services.filing_missing(wizard=self, filing=filing),
        }

    def view_attachments(self, filing_id):
        """The attachment step: list, upload (POST); bad files get a message, good ones are kept."""
        filing = services.owned_filing_or_404(self, filing_id, current_user)
        blocked = self._editable_or_redirect(filing)
        if blocked:
            return blocked
        first = self.first_incomplete(filing)
        if first != self.ATTACHMENTS:
            return redirect(self.step_url(filing, first))
        if request.method == "GET":
            return self._render_step(filing, self.ATTACHMENTS)
        form = EmptyForm()
        if not form.validate_on_submit():
            abort(400)
        try:
            saved, errors = services.filing_add_attachments(
                filing=filing, files=request.files.getlist("files"), user=current_user, wizard=self
            )
        except services.FilingError as error:
            saved, errors = [], [str(error)]
        if not is_htmx():
            for name in saved:
                flash(f"已上传：{name}", "success")
            for error in errors:
                flash(error, "error")
            return redirect_303(self.step_url(filing, self.ATTACHMENTS))
        return self._render_step(
            filing,
            self.ATTACHMENTS,
            status=422 if errors and not saved else 200,
            upload_saved=saved,
            upload_errors=errors,
        )

    def view_delete_attachment(self, filing_id, attachment_id):
        """Delete one attachment while the filing is editable; 404 for another's file."""
        filing = services.owned_filing_or_404(self, filing_id, current_user)
        if not EmptyForm().validate_on_submit():
            abort(400)
        attachment = services.filing_attachment_or_none(filing, attachment_id)
        if attachment is None:
            # a repeated 删除 (double click, retry): the first one removed it; same page as then
            if is_htmx():
                return self._render_step(filing, self.ATTACHMENTS, upload_saved=[], upload_errors=[])
            flash("该附件已删除。", "success")
            return redirect_303(self.step_url(filing, self.ATTACHMENTS))
        try:
            services.filing_delete_attachment(filing=filing, attachment=attachment, user=current_user, wizard=self)
            message = (f"已删除：{attachment.original_name}", "success")
        except services.FilingError as error:
            message = (str(error), "error")
        if is_htmx():
            return self._render_step(
                filing, self.ATTACHMENTS, upload_saved=[], upload_errors=[] if message[1] == "success" else [message[0]]
            )
        flash(*message)
        return redirect_303(self.step_url(filing, self.ATTACHMENTS))

    def view_download(self, filing_id, attachment_id):
        """Send an attachment to its owner or a reviewer in scope; 404 otherwise."""
        filing = services.visible_filing_or_404(self, filing_id, current_user)
        return attachment_response(services.filing_attachment_or_404(filing, attachment_id))

    def view_submit(self, filing_id):
        """Submit: refused with the reasons when a step or the attachments are incomplete."""
        filing = services.owned_filing_or_404(self, filing_id, current_user)
        if not EmptyForm().validate_on_submit():
            abort(400)
        try:
            services.filing_transition(wizard=self, filing=filing, action="submit", actor=current_user)
        except services.AlreadyDone:
            pass  # a double click or a retry: the first one submitted it; same result page
        except services.StaleState as error:
            flash(str(error), "warning")
            return redirect_303(url_for(self.endpoints.show, filing_id=filing.id))
        except services.FilingError as error:
            flash(str(error), "error")
            return redirect_303(self.step_url(filing, self.first_incomplete(filing)))
        flash(f"{self.title}已提交，请等待审核。", "success")
        return redirect_303(url_for(self.endpoints.list))

    def view_show(self, filing_id):
        """查看: every field with its unit, the attachments and the review history."""
        filing = services.visible_filing_or_404(self, filing_id, current_user)
        return render("filings/show.html", **self._show_context(filing))

    def _show_context(self, filing):
        pinned, comment = self.pinned(filing)
        return {
            "wizard": self,
            "filing": filing,
            "sections": self.detail_sections(filing),
            "detail_html": self.detail_html(filing),
            "review_notes": self.review_notes(filing),
            "pinned_fields": pinned,
            "return_comment": comment,
            "status_label": self.status_label,
            "workflow": workflow,
            "breadcrumb": self.breadcrumb(filing, f"查看{self.title}信息"),
            "form": EmptyForm(),
        }

    def view_delete(self, filing_id):
        """Delete a draft; other statuses are refused with a message. A repeat (the draft is gone
        already) lands on the list as the first one did."""
        if not EmptyForm().validate_on_submit():
            abort(400)
        filing = services.owned_filing_or_none(self, filing_id, current_user)
        if filing is None:
            if not services.deleted_by(self, filing_id, current_user):
                abort(404)
            flash(f"已删除该{self.title}草稿。", "success")
            return redirect_303(url_for(self.endpoints.list))
        try:
            services.filing_delete(wizard=self, filing=filing, user=current_user)
            flash(f"已删除该{self.title}草稿。", "success")
        except services.FilingError as error:
            flash(str(error), "error")
        return redirect_303(url_for(self.endpoints.list))

    def view_withdraw(self, filing_id):
        """编辑 of a submitted filing no reviewer has acted on: confirm, then back to draft; refused
        with a message when the module locks it (e.g. after the deadline)."""
        filing = services.owned_filing_or_404(self, filing_id, current_user)
        form = EmptyForm()
        if request.method == "POST" and form.validate_on_submit():
            # The service owns the rules (status, the module's lock); a repeated 撤回 by the owner
            # is AlreadyDone and lands on the same page as the first.
            try:
                services.filing_transition(wizard=self, filing=filing, action="withdraw", actor=current_user)
            except services.AlreadyDone:
                pass
            except services.FilingError as error:
                flash(str(error), "warning")
                return redirect(url_for(self.endpoints.show, filing_id=filing.id))
            flash("已撤回为草稿，修改后请重新提交。", "success")
            return redirect_303(self.step_url(filing, self.steps[0].slug))
        locked = self.locked_message(filing) if filing.status == workflow.SUBMITTED else None
        if filing.status != workflow.SUBMITTED or locked:
            if locked:
                flash(locked, "warning")
            return redirect(url_for(self.endpoints.show, filing_id=filing.id))
        return render(
            "filings/withdraw.html", wizard=self, filing=filing, form=form, breadcrumb=self.breadcrumb(filing)
        )

    def view_queue(self):
        """Review queue for this admin's level and scope, with filters."""
        import sqlalchemy as sa

        args = request.args
        status = args.get("status")
        if status is None:
            status = (
                workflow.SUBMITTED
                if current_user.role == "city_admin" or self.levels == ("city",)
                else workflow.CITY_APPROVED
            )
        if status and status not in workflow.STATUS_LABELS:
            status = ""
        page = services.review_filings(
            wizard=self,
            user=current_user,
            round_id=args.get("round_id", type=db_int),
            city_code=args.get("city_code") or None,
            status=status or None,
            keyword=(args.get("q") or "").strip() or None,
            page=args.get("page", 1, type=db_int),
        )
        rounds = db.session.scalars(
            sa.select(Round).where(Round.kind == self.round_kind).order_by(Round.opens_on.desc())
        ).all()
        return render(
            "filings/review_queue.html",
            wizard=self,
            page=page,
            chosen_status=status,
            rounds=rounds,
            cities=cities(),
            status_label=self.status_label,
            workflow=workflow,
            waiting=services.waiting_count(wizard=self, user=current_user),
            breadcrumb=[("审核管理", None), (f"{self.title}审核", None)],
        )

    def view_review(self, filing_id):
        """Review page: the filing, its history and the decisions this admin may make."""
        filing = services.visible_filing_or_404(self, filing_id, current_user)
        actions = [
            t
            for t in workflow.available(filing, current_user, self.levels)
            if t.level != "owner" and t.name not in self.hidden_actions
        ]
        error = None
        if request.method == "POST":
            if not EmptyForm().validate_on_submit():
                abort(400)
            try:
                if request.form.get("action", "") in self.hidden_actions:
                    raise services.FilingError("当前状态下不能执行该操作，请刷新页面查看最新状态。")
                transition = services.filing_transition(
                    wizard=self,
                    filing=filing,
                    action=request.form.get("action", ""),
                    actor=current_user,
                    comment=request.form.get("comment"),
                    pinned=request.form.getlist("pinned"),
                )
            except services.AlreadyDone:
                # the same decision sent twice (double click, retry): applied once; same result page
                transition = workflow.find(self.levels, request.form.get("action", ""))
            except (services.FilingError, workflow.TransitionError) as exc:
                error = str(exc)
                actions = [
                    t
                    for t in workflow.available(filing, current_user, self.levels)
                    if t.level != "owner" and t.name not in self.hidden_actions
                ]
            if error is None:
                flash(
                    f"已{self.action_label(transition)}：{self.title}状态为“{self.status_label(filing.status)}”。",
                    "success",
                )
                return redirect_303(url_for(self.endpoints.queue))
        context = self._show_context(filing)
        context.update(
            actions=actions,
            error=error,
            comment=request.form.get("comment", ""),
            chosen_pins=set(request.form.getlist("pinned")),
            breadcrumb=[("审核管理", None), (f"{self.title}审核", url_for(self.endpoints.queue)), ("审核", None)],
        )
        return render("filings/review.html", status=422 if error else 200, **context)

    def view_export(self):
        """Excel export of every filing in the admin's scope (optionally one round)."""
        return export_filings(self, current_user, round_id=request.args.get("round_id", type=db_int))


def _named(view, endpoint):
    """Bound methods need a distinct __name__ per endpoint; the access policy stays on it."""

    def handler(**kwargs):
        return view(**kwargs)

    handler.__name__ = endpoint
    handler.__doc__ = view.__doc__
    return handler
