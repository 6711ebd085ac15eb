"""What each module contributes to the app, declared in one place and wired by ``create_app``.

Every package under ``app/blueprints/`` declares one ``Module`` in its ``__init__.py``: its
blueprint, menu entries, 首页 blocks, public lists, 搜索 sources, entry buttons, 管理首页 counts,
hooks and 操作日志 labels. ``app/blueprints/__init__.py`` lists the modules in order and
``wire_modules`` registers the blueprints and merges the contributions into one ``Wiring`` kept on
``app.extensions["modules"]``; the portal, the side menu, the admin home page and the 操作日志 read
it through ``wiring()`` for the current app. Nothing is registered by importing a module, so a test
can build an app from a subset of modules.
"""

from dataclasses import dataclass, field

from flask import current_app

EXTENSION_KEY = "modules"


@dataclass(frozen=True)
class MenuItem:
    """A side-menu entry; the role sees it only when the endpoint's access policy lets it in."""

    group: str  # one of the app's menu groups (app/blueprints/__init__.py lists them in order)
    label: str
    endpoint: str
    args: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Entry:
    """An entry button (申报入口 ...): ``endpoints`` are tried before those of earlier modules; the
    first the user may open wins. ``label`` is given by the module that declares the button."""

    kind: str
    endpoints: tuple
    label: str | None = None


@dataclass(frozen=True)
class Module:
    name: str
    blueprint: object
    url_prefix: str | None = None
    menu: tuple = ()  # MenuItem, in display order within each group
    home_blocks: tuple = ()  # (key, provider() -> HomeBlock); a key declared earlier is replaced in place
    directory_sources: tuple = ()  # (key, DirectorySource) for the portal's public lists
    big_data: object = None  # provider(year=None, headline=False) of 调度大数据
    institution_sections: tuple = ()  # provider(institution) -> (title, items) or None
    # provider(institution, *, viewer, args) -> [AdminSection]: the admins' 机构详情 page
    admin_institution_sections: tuple = ()
    search_sources: tuple = ()  # SearchSource; a key declared earlier is replaced
    entries: tuple = ()  # Entry
    home_counts: tuple = ()  # provider(user) -> iterable of HomeCount, for the 管理首页
    profile_hooks: tuple = ()  # hook(user, changes), told of every saved 基本资料 change
    wizards: tuple = ()  # filing wizards: their audit labels come from the declaration
    action_labels: dict = field(default_factory=dict)  # 操作日志 action code -> name
    target_labels: dict = field(default_factory=dict)  # audited model name -> name
    field_labels: dict = field(default_factory=dict)  # audited field -> name
    jobs: tuple = ()  # app.jobs.JobKind: background jobs this module starts
    schedules: tuple = ()  # app.jobs.ScheduleKind: what runs by itself each day (定时任务)


@dataclass
class Wiring:
    """The merged contributions of one app's modules, in the modules' order."""

    modules: tuple
    menu: list  # [(group title, [(label, endpoint, args)])]
    home_blocks: dict
    directory_sources: dict
    big_data: object
    institution_sections: list
    search_sources: list
    entries: dict  # kind -> (label, [endpoints to try in order])
    home_counts: list
    profile_hooks: list
    action_labels: dict
    target_labels: dict
    field_labels: dict
    jobs: list = field(default_factory=list)
    schedules: list = field(default_factory=list)
    admin_institution_sections: list = field(default_factory=list)


@dataclass(frozen=True)
class AdminSection:
    """One section of the admins' 机构详情 page: ``template`` (the module's own partial) is
    rendered with ``context``; ``key`` is the section's id on the page."""

    key: str
    title: str
    template: str
    context: dict = field(default_factory=dict)


def merge(modules, menu_groups):
    """One Wiring from ``modules`` (in order); ``menu_groups`` orders the side menu's groups."""
    menu = {group: [] for group in menu_groups}
    home_blocks, directory_sources, search_sources, entries = {}, {}, {}, {}
    big_data, sections, counts, hooks = None, [], [], []
    actions, targets, fields = {}, {}, {}
    for module in modules:
        for item in module.menu:
            if item.group not in menu:
                raise ValueError(f"{module.name}: unknown menu group {item.group!r}")
            menu[item.group].append((item.label, item.endpoint, item.args))
        home_blocks.update(module.home_blocks)
        directory_sources.update(module.directory_sources)
        big_data = module.big_data or big_data
        sections.extend(module.institution_sections)
        for source in module.search_sources:
            search_sources.pop(source.key, None)  # a replacement goes last, as it is searched last
            search_sources[source.key] = source
        for entry in module.entries:
            label, tried = entries.get(entry.kind, (entry.label, []))
            entries[entry.kind] = (
                entry.label or label,
                [*entry.endpoints, *(e for e in tried if e not in entry.endpoints)],
            )
        counts.extend(module.home_counts)
        hooks.extend(module.profile_hooks)
        actions.update(module.action_labels)
        targets.update(module.target_labels)
        fields.update(module.field_labels)
    for module in modules:  # a module's own labels win over those derived from its wizards
        for wizard in module.wizards:
            wizard_actions, wizard_targets = wizard.audit_labels()
            for code, label in wizard_actions.items():
                actions.setdefault(code, label)
            for name, label in wizard_targets.items():
                targets.setdefault(name, label)
    return Wiring(
        modules=tuple(modules),
        menu=[(group, items) for group, items in menu.items() if items],
        home_blocks=home_blocks,
        directory_sources=directory_sources,
        big_data=big_data,
        institution_sections=sections,
        search_sources=list(search_sources.values()),
        entries=entries,
        home_counts=counts,
        profile_hooks=hooks,
        action_labels=actions,
        target_labels=targets,
        field_labels=fields,
        jobs=[kind for module in modules for kind in module.jobs],
        schedules=[kind for module in modules for kind in module.schedules],
        admin_institution_sections=[p for module in modules for p in module.admin_institution_sections],
    )


def wire_modules(app, modules, menu_groups):
    """Register each module's blueprint and keep the merged contributions on the app."""
    for module in modules:
        app.register_blueprint(module.blueprint, url_prefix=module.url_prefix)
    app.extensions[EXTENSION_KEY] = merge(modules, menu_groups)


def wiring(app=None):
    """The Wiring of ``app`` (default: the current app)."""
    return (app or current_app).extensions[EXTENSION_KEY]
