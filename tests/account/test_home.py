"""工作台: a welcome panel per role; admins go on to the administration home."""

import pytest
import sqlalchemy as sa
from flask import url_for

from app.extensions import db
from app.inbox import notify
from app.reference.models import UnitNature
from tests.account.conftest import signed_in
from tests.factories import ROLE_FACTORIES, make_enterprise, make_expert, make_institution, uscc_for
from tests.helpers import page, text_of

WORKSPACE_PAGES = ["/workspace/profile", "/workspace/messages", "/workspace/password"]


@pytest.mark.parametrize("role", ["institution", "expert", "enterprise"])
def test_home_for_each_user_type(client, app_ctx, role):
    user = ROLE_FACTORIES[role]()
    soup = page(signed_in(client, user).get("/workspace/"))
    text = text_of(soup)
    assert user.username in text
    assert user.role_label in text
    assert "未读消息 0 条" in text
    assert soup.select_one("nav.sidemenu") is not None


@pytest.mark.parametrize("role", ["city_admin", "province_admin"])
def test_admins_go_to_the_admin_home(client, app_ctx, role):
    response = signed_in(client, ROLE_FACTORIES[role]()).get("/workspace/")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(url_for("admin.home"))


@pytest.mark.parametrize("role", list(ROLE_FACTORIES))
@pytest.mark.parametrize("path", WORKSPACE_PAGES)
def test_workspace_pages_render_for_every_role(client, app_ctx, role, path):
    soup = page(signed_in(client, ROLE_FACTORIES[role]()).get(path))
    assert soup.select_one("nav.sidemenu") is not None
    assert soup.find("h1") is not None


def test_anonymous_is_sent_to_login(client):
    for path in ["/workspace/", *WORKSPACE_PAGES]:
        response = client.get(path)
        assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_unread_messages_and_profile_hint(client, app_ctx):
    user = make_institution()
    notify(user, "您的申报已通过初审")
    notify(user, "请按时填报月度调度数据")
    db.session.commit()
    soup = page(signed_in(client, user).get("/workspace/"))
    text = text_of(soup)
    assert "未读消息 2 条" in text
    assert "[未读] 您的申报已通过初审" in text
    assert "您的基本资料还缺少：机构类型、服务类别、地址、电子邮箱、机构简介" in text
    assert soup.find("a", string="去完善基本资料")["href"] == "/workspace/profile"
    # the header's count comes from the layout
    assert soup.select_one(".userbar .badge").get_text() == "2"


def test_complete_profile_has_no_hint(client, app_ctx):
    user = make_expert(bio="长期从事中小企业融资研究。")
    assert "基本资料还缺少" not in text_of(page(signed_in(client, user).get("/workspace/")))
    other = make_enterprise()
    assert "基本资料还缺少：地址" in text_of(
        page(signed_in(client.application.test_client(), other).get("/workspace/"))
    )


def test_institution_uscc_warning(client, app_ctx):
    # a 事业单位 (expected prefix 12) whose code starts 91, registered outside Hunan (43)
    code = uscc_for(7)
    body = "91110100MA" + code[10:17]
    from stdnum.cn import uscc

    user = make_institution(uscc=body + uscc.calc_check_digit(body))
    user.institution.unit_nature = db.session.scalar(sa.select(UnitNature).where(UnitNature.name == "事业单位"))
    db.session.commit()
    soup = page(signed_in(client, user).get("/workspace/"))
    box = soup.find("p", string="机构代码提示").find_parent(class_="warning-box")
    assert "单位性质“事业单位”" in box.get_text()
    assert "不在湖南省" in box.get_text()


def test_no_uscc_warning_for_a_matching_code(client, app_ctx):
    soup = page(signed_in(client, make_institution()).get("/workspace/"))
    assert soup.find("p", string="机构代码提示") is None
