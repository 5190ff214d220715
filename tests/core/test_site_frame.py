import pytest


@pytest.mark.django_db
def test_login_page_speaks_chinese_by_default_and_english_on_request(client):
    response = client.get("/accounts/login/")
    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="zh-hans">' in html
    assert "登录" in html and "用户名" in html
    response = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en")
    assert '<html lang="en">' in response.content.decode()
    assert "Username" in response.content.decode()


@pytest.mark.django_db
def test_the_language_switch_sticks(client):
    client.post("/i18n/setlang/", {"language": "en", "next": "/accounts/login/"})
    assert "Sign in" in client.get("/accounts/login/").content.decode()


@pytest.mark.django_db
def test_demo_login_works_with_the_printed_password(client):
    from households.demo import DEMO_PASSWORD, seed_users

    seed_users()
    assert client.login(username="county", password=DEMO_PASSWORD)
