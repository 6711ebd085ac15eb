"""flask commands: create-admin, seed-demo, load-reference, check-config, sms-deliver, seed-scale (app/scale.py)."""

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import with_appcontext

from app.backup import backup_command, restore_command
from app.blueprints.admin.services import AdminError, admin_create
from app.config import config_findings, storage_findings
from app.demo import seed_demo_data
from app.extensions import db
from app.filecheck import check_files_command, sweep_files_command
from app.reference.models import Region
from app.reference.services import load_reference
from app.scale import seed_scale_command
from app.sms import deliver_pending


def register_cli(app):
    app.cli.add_command(create_admin)
    app.cli.add_command(seed_demo)
    app.cli.add_command(load_reference_command)
    app.cli.add_command(check_config)
    app.cli.add_command(sms_deliver)

    app.cli.add_command(seed_scale_command)
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
    app.cli.add_command(check_files_command)
    app.cli.add_command(sweep_files_command)


@click.command("load-reference")
@with_appcontext
def load_reference_command():
    """Load 市州/区县, 单位性质, 机构类型, 服务类别 and 所属平台 (idempotent)."""
    created = load_reference()
    click.echo(f"reference data loaded ({created} new entries)")


@click.command("create-admin")
@with_appcontext
@click.option("--username", required=True)
@click.option("--password", required=True)
@click.option("--role", type=click.Choice(["province", "city"]), required=True)
@click.option("--city", default=None, help="市州名称，如 长沙市 (city admins only)")
def create_admin(username, password, role, city):
    """Create a province or city admin account, non-interactively."""
    city_code = None
    if role == "city":
        if not city:
            raise click.UsageError("--city is required for --role city")
        city_code = db.session.scalar(sa.select(Region.code).where(Region.name == city, Region.level == "city"))
        if city_code is None:
            raise click.UsageError(f"unknown 市州: {city} (run flask load-reference first)")
    try:
        user = admin_create(username=username, password=password, role=f"{role}_admin", city_code=city_code)
    except AdminError as error:
        raise click.ClickException(str(error))
    click.echo(f"created {user.role} {user.username}")


@click.command("seed-demo")
@with_appcontext
def seed_demo():
    """Load demo accounts and notices (idempotent); refuses to run with production settings."""
    if current_app.config["APP_ENV"] == "production":
        raise click.ClickException("seed-demo refuses to run with production settings (APP_ENV=production).")

    for role, username, password in seed_demo_data():
        click.echo(f"demo {role} {username} {password}")


@click.command("check-config")
@with_appcontext
def check_config():
    """Print every finding about the settings: what production refuses, and warnings."""
    config = current_app.config
    production = config["APP_ENV"] == "production"
    findings = config_findings(config) + storage_findings(current_app)
    click.echo(
        f"APP_ENV={config['APP_ENV']}：检查 {len(findings)} 项发现" + ("" if production else "（按生产配置的规则检查）")
    )
    for level, text in findings:
        if level == "error":
            # Under production an error has already stopped the app before this command runs.
            click.echo(f"错误：{text}" if production else f"生产环境下拒绝启动：{text}")
        else:
            click.echo(f"警告：{text}")
    if not findings:
        click.echo("未发现问题。")


@click.command("sms-deliver")
@with_appcontext
def sms_deliver():
    """Send the 短信日志's 待发送 messages (left by a stopped worker or a slow gateway); cron-safe:
    each message is claimed once, however many copies run."""
    sent, failed = deliver_pending()
    click.echo(f"已发送 {sent} 条，发送失败 {failed} 条。")
