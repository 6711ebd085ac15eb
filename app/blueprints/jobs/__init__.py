"""后台任务 and 定时任务: a job's progress page and its file, the schedules' settings.

Its contributions are declared in module.py; app/blueprints/__init__.py lists the modules."""

from flask import Blueprint

bp = Blueprint("jobs", __name__)
