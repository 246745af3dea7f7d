"""The console in a real Chromium against a real ``maria serve`` with a real SMTP sink: what a
person does with it, and what an attacker's text cannot do to it."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
from PIL import Image
from playwright.sync_api import Browser, Page, expect

from tests.console.browser import (
    WAIT_MS,
    Site,
    api_message,
    cookie,
    dialogs_of,
    email,
    focused_heading,
    form,
    heading,
    json_text,
    range_value,
    set_range,
    shot,
    signed_up,
    storage_of,
    tokens_pattern,
    unlabelled_controls,
    until,
)
from tests.support.api import PASSWORD
from tests.support.mail import code_of

CHECK_EVERY_S = 10  # console/src/session.ts: CHECK_EVERY_MS


def rows(page: Page) -> list[str]:
    """The first cell of every row of the page's table."""
    cells: list[str] = page.locator("main table tbody tr td:first-child").all_inner_texts()
    return cells


def nav(page: Page, name: str) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name=name).click()


def test_sign_up_verify_avatar_and_lists(browser: Browser, site: Site, tmp_path: Path) -> None:
    context = browser.new_context(base_url=site.url, viewport={"width": 1200, "height": 900})
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    page = context.new_page()
    page.goto("/console/")
    heading(page, "Sign in")
    assert page.url.endswith("/console/sign-in")
    shot(page, "sign-in")

    address = email()
    sign_up = form(page, "Create an account")
    sign_up.get_by_label("Display name").fill("Ann Reader")
    sign_up.get_by_label("Email").fill(address)
    sign_up.get_by_label("Password").fill(PASSWORD)
    sign_up.get_by_role("button", name="Create account").click()
    focused_heading(page, "Profile")
    expect(page.get_by_text("Signed in as Ann Reader")).to_be_visible()

    # Cookie mode: the tokens are HttpOnly cookies, never in the page's storage.
    storage = storage_of(page)
    for name in ("maria_access", "maria_refresh"):
        assert cookie(context, name) not in storage
    assert not tokens_pattern().search(storage), storage
    assert page.evaluate("document.cookie").count("maria_access") == 0  # HttpOnly

    # The address: not verified; "send again" mails a second link, which verifies it.
    expect(page.get_by_text("Not verified")).to_be_visible()
    site.mail_to(address, 1)  # registration mailed the first link
    page.get_by_role("button", name="Send the verification email again").click()
    expect(page.locator("#notice")).to_contain_text("verification link was mailed")
    token = site.verification_token(address, 2)
    page.goto(f"/console/verify-email?token={token}")
    expect(page.get_by_role("status").filter(has_text="verified")).to_have_text(
        "Your email address is verified."
    )
    page.get_by_role("link", name="Back to your profile").click()
    focused_heading(page, "Profile")
    expect(page.locator(".badge", has_text="Verified")).to_be_visible()

    # Avatar: previewed from the file before it is sent, then Maria's 256 px WebP.
    picture = tmp_path / "me.png"
    Image.new("RGB", (300, 200), (200, 40, 40)).save(picture)
    page.get_by_label("Image (PNG, JPEG or WebP, up to 5 MiB)").set_input_files(str(picture))
    preview = page.get_by_alt_text("Preview of the chosen image")
    expect(preview).to_be_visible()
    assert (preview.get_attribute("src") or "").startswith("blob:")
    shot(page, "profile-avatar-preview")
    page.get_by_role("button", name="Upload").click()
    current = page.get_by_alt_text("Your current avatar")
    expect(current).to_have_attribute("src", re.compile(r"^/api/v1/avatars/[^/]+\.webp$"))
    page.wait_for_function(
        "() => document.querySelector('img.avatar:not(.preview)')?.naturalWidth === 256"
    )
    expect(preview).to_be_hidden()
    shot(page, "profile")

    # Lists: add by id (a second add is "already there"), both orders.
    nav(page, "Lists")
    focused_heading(page, "Lists")
    page.get_by_role("link", name="Favorites").click()
    focused_heading(page, "Favorites")
    add = form(page, "Add a movie")
    for movie in ("301", "326", "301"):
        add.get_by_label("Kinopoisk id").fill(movie)
        add.get_by_role("button", name="Add").click()
        expect(page.locator("#notice")).to_contain_text(f"Movie {movie}")
    expect(page.locator("#notice")).to_have_text("Movie 301 was already in the list.")
    expect(page.locator("main table tbody tr")).to_have_count(2)
    assert rows(page) == ["326", "301"]
    page.get_by_label("Order").select_option("oldest")
    expect(page.locator("main table tbody tr td").first).to_have_text("301")
    assert rows(page) == ["301", "326"]
    page.get_by_role("button", name="Remove movie 326").click()
    expect(page.locator("main table tbody tr")).to_have_count(1)

    # Public: the link is shown and copied, and answers without a sign-in.
    page.get_by_label("Public", exact=True).check()
    expect(page.locator("#notice")).to_have_text("The list is public.")
    link = page.get_by_label("Public link").input_value()
    assert re.fullmatch(rf"{re.escape(site.url)}/api/v1/users/[^/]+/lists/favorites/items", link)
    page.get_by_role("button", name="Copy the public link").click()
    expect(page.get_by_text("Copied.")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == link
    public = httpx.get(link, timeout=10)
    assert public.status_code == 200, public.text
    assert [item["movie_id"] for item in public.json()["items"]] == [301]
    shot(page, "list")

    # Paste-import Kinoway's localStorage: ids in favorites, 25 in watch-later, one bad.
    nav(page, "Lists")
    focused_heading(page, "Lists")
    later = list(range(1000, 1025))
    pasted = {"favorites": [435, 301], "watch-later": json_text([*later, "not an id"])}
    page.get_by_label("Kinoway's localStorage JSON").fill(json_text(pasted))
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.locator(".result")).to_have_text("Imported: 26 added, 1 already there, 1 skipped.")
    counts = page.locator("main table tbody tr td:nth-child(2)").all_inner_texts()
    assert counts[:2] == ["2", "25"]
    shot(page, "lists")

    # Pages of 20: forward and back.
    page.get_by_role("link", name="Watch later").click()
    focused_heading(page, "Watch later")
    expect(page.locator("main table tbody tr")).to_have_count(20)
    assert rows(page)[0] == "1024"  # the last one pasted is the newest
    page.get_by_role("button", name="Next page").click()
    expect(page.locator("main table tbody tr")).to_have_count(5)
    assert rows(page)[-1] == "1000"
    page.get_by_role("button", name="Previous page").click()
    expect(page.locator("main table tbody tr")).to_have_count(20)

    # A list of one's own: created public, then deleted after a confirmation.
    nav(page, "Lists")
    create = form(page, "Create a list")
    create.get_by_label("Title").fill("Weekend")
    create.get_by_label(re.compile("^Public")).check()
    create.get_by_role("button", name="Create the list").click()
    focused_heading(page, "Weekend")
    expect(page.get_by_label("Public link")).to_have_value(re.compile(r"/lists/weekend/items$"))
    page.get_by_role("button", name="Delete this list").click()
    page.get_by_role("button", name="Yes, delete it").click()
    focused_heading(page, "Lists")
    expect(page.locator("#notice")).to_have_text("List “Weekend” deleted.")
    expect(page.get_by_role("link", name="Weekend")).to_have_count(0)

    # A paste that is not the localStorage object is refused, saying why (on the Lists page
    # the deletion led to: navigating to it again would re-render it under the typing).
    page.get_by_label("Kinoway's localStorage JSON").fill("[1, 2]")
    page.get_by_role("button", name="Import", exact=True).click()
    expect(form(page, "Import from Kinoway's localStorage").get_by_role("alert")).to_have_text(
        'Paste a JSON object with "favorites" and/or "watch-later" arrays.'
    )
    assert not tokens_pattern().search(storage_of(page))
    context.close()


def test_two_browsers_share_a_room(browser: Browser, site: Site) -> None:
    host_context, host, _ = signed_up(browser, site, "Host Hanna")
    guest_context, guest, _ = signed_up(browser, site, "Guest Gil")

    nav(host, "Rooms")
    focused_heading(host, "Rooms")
    create = form(host, "Create a room")
    create.get_by_label("Kinopoisk id of the movie").fill("301")
    create.get_by_label("Title (optional)").fill("Friday film")
    create.get_by_role("button", name="Create the room").click()
    focused_heading(host, "Friday film")
    room_id = host.get_by_label("Room id").input_value()
    assert host.url.endswith(f"/console/rooms/{room_id}")

    nav(guest, "Rooms")
    join = form(guest, "Join a room")
    join.get_by_label("Room id").fill(room_id)
    join.get_by_role("button", name="Join").click()
    focused_heading(guest, "Friday film")

    for page in (host, guest):
        expect(page.get_by_role("status").filter(has_text="Connected")).to_be_visible()
        assert not tokens_pattern().search(storage_of(page))  # the socket's token: memory
        members = page.locator(".members li")
        expect(members.filter(has_text="Host Hanna")).to_be_visible()
        expect(members.filter(has_text="Guest Gil")).to_be_visible()

    # Chat both ways, in the live log.
    host.get_by_label("Message", exact=True).fill("Ready when you are")
    host.get_by_role("button", name="Send").click()
    expect(guest.get_by_role("log").locator("li")).to_contain_text(["Ready when you are"])
    guest.get_by_label("Message", exact=True).fill("Go!")
    guest.get_by_role("button", name="Send").click()
    expect(host.get_by_role("log").locator("li")).to_contain_text(["Ready when you are", "Go!"])

    # Only the host controls playback; the guest's timeline follows.
    expect(guest.get_by_role("button", name="Play")).to_be_disabled()
    expect(guest.get_by_label("Who controls playback")).to_be_hidden()
    expect(host.get_by_label("Who controls playback")).to_be_visible()
    host.get_by_role("button", name="Play").click()
    expect(guest.get_by_role("button", name="Pause")).to_be_visible()
    until("the guest's timeline moves", lambda: range_value(guest) >= 1)

    set_range(host, 3600)  # the host drags to 1:00:00
    until("the guest's timeline jumps", lambda: 3600 <= range_value(guest) <= 3610)
    host.get_by_role("button", name="Pause").click()
    expect(guest.get_by_role("button", name="Play")).to_be_visible()
    paused_at = range_value(guest)
    assert 3600 <= paused_at <= 3610
    host.wait_for_timeout(1200)
    assert range_value(guest) == paused_at  # paused stays put
    assert abs(range_value(host) - paused_at) <= 1
    expect(guest.locator(".position")).to_have_text(re.compile(r"^1:00:0\d$"))
    shot(host, "room")
    shot(guest, "room-guest")
    host_context.close()
    guest_context.close()


def test_admin_disables_users_whose_open_pages_are_signed_out(browser: Browser, site: Site) -> None:
    focused_context, focused, focused_user = signed_up(browser, site, "Fay Focus")
    idle_context, idle, idle_user = signed_up(browser, site, "Ida Idle")
    idle.get_by_role("link", name="Lists").click()
    heading(idle, "Lists")

    admin_email = email()
    site.create_admin(admin_email)
    admin_context = browser.new_context(base_url=site.url, viewport={"width": 1280, "height": 900})
    admin = admin_context.new_page()
    admin.goto("/console/sign-in")
    sign_in = form(admin, "Sign in with a password")
    sign_in.get_by_label("Email").fill(admin_email)
    sign_in.get_by_label("Password").fill(PASSWORD)
    sign_in.get_by_role("button", name="Sign in").click()
    heading(admin, "Profile")
    nav(admin, "Users")
    focused_heading(admin, "Users")

    search = form(admin, "Search users")
    for user in (focused_user, idle_user):
        search.get_by_label("Email or name contains").fill(user["email"])
        search.get_by_role("button", name="Search").click()
        expect(admin.locator("main table tbody tr")).to_have_count(1)
        admin.get_by_role("button", name=f"Disable {user['email']}").click()
        expect(admin.locator("#notice")).to_have_text(f"{user['email']} is disabled.")
        expect(admin.get_by_role("button", name=f"Enable {user['email']}")).to_be_visible()

    # Coming back to the tab checks at once; an idle page within the periodic check.
    focused.evaluate("window.dispatchEvent(new Event('focus'))")
    heading(focused, "Sign in")
    expect(focused.locator("#notice")).to_contain_text("signed out")
    expect(idle.locator("main h1")).to_have_text("Sign in", timeout=(CHECK_EVERY_S + 5) * 1000)
    assert idle.url.endswith("/console/sign-in")

    # The whole list, then the audit log filtered to the disables.
    search.get_by_label("Email or name contains").fill("")
    search.get_by_role("button", name="Search").click()
    expect(admin.get_by_role("button", name=f"Enable {idle_user['email']}")).to_be_visible()
    shot(admin, "admin-users")
    nav(admin, "Audit log")
    focused_heading(admin, "Audit log")
    admin.get_by_label("Event").select_option("disabled")
    form(admin, "Filter the audit log").get_by_role("button", name="Filter").click()
    expect(admin.locator("main table tbody tr")).to_have_count(2)
    events = admin.locator("main table tbody tr td:nth-child(2)").all_inner_texts()
    assert events == ["disabled", "disabled"]
    users = admin.locator("main table tbody tr td:nth-child(3)").all_inner_texts()
    assert users == [idle_user["id"], focused_user["id"]]
    shot(admin, "admin-audit")

    # Enable one (who can sign in again), make them admin, delete the other.
    nav(admin, "Users")
    search = form(admin, "Search users")
    search.get_by_label("Email or name contains").fill(focused_user["email"])
    search.get_by_role("button", name="Search").click()
    admin.get_by_role("button", name=f"Enable {focused_user['email']}").click()
    expect(admin.locator("#notice")).to_have_text(f"{focused_user['email']} is enabled.")
    admin.get_by_label(f"Role of {focused_user['email']}").select_option("admin")
    expect(admin.locator("#notice")).to_have_text(f"{focused_user['email']} is now an admin.")
    relogin = form(focused, "Sign in with a password")
    relogin.get_by_label("Email").fill(focused_user["email"])
    relogin.get_by_label("Password").fill(PASSWORD)
    relogin.get_by_role("button", name="Sign in").click()
    heading(focused, "Profile")
    expect(focused.get_by_role("link", name="Audit log")).to_be_visible()

    search.get_by_label("Email or name contains").fill(idle_user["email"])
    search.get_by_role("button", name="Search").click()
    admin.get_by_role("button", name=f"Delete {idle_user['email']}").click()
    admin.get_by_role("button", name=f"Yes, delete {idle_user['email']}").click()
    expect(admin.locator("#notice")).to_have_text(f"{idle_user['email']} is deleted.")
    expect(admin.get_by_text("No user matches.")).to_be_visible()
    for context in (focused_context, idle_context, admin_context):
        context.close()


def test_hostile_names_and_chat_render_as_text(browser: Browser, site: Site) -> None:
    name = "<img src=x onerror=alert(1)>"
    message = "<script>alert(2)</script><img src=x onerror=alert(3)>"
    evil_context, evil, _ = signed_up(browser, site, name)
    victim_context, victim, _ = signed_up(browser, site, "Vic")
    evil_dialogs, victim_dialogs = dialogs_of(evil), dialogs_of(victim)

    expect(evil.get_by_text(f"Signed in as {name}")).to_be_visible()
    evil.goto("/console/rooms")
    create = form(evil, "Create a room")
    create.get_by_label("Kinopoisk id of the movie").fill("42")
    create.get_by_label("Title (optional)").fill("<b onmouseover=alert(4)>bold</b>")
    create.get_by_role("button", name="Create the room").click()
    heading(evil, "<b onmouseover=alert(4)>bold</b>")
    room_id = evil.get_by_label("Room id").input_value()
    victim.goto(f"/console/rooms/{room_id}")
    heading(victim, "<b onmouseover=alert(4)>bold</b>")
    expect(victim.locator(".members li").filter(has_text=name)).to_be_visible()

    evil.get_by_label("Message", exact=True).fill(message)
    evil.get_by_role("button", name="Send").click()
    line = victim.get_by_role("log").locator("li .text")
    expect(line).to_have_text(message)
    expect(victim.get_by_role("log").locator("li .who")).to_have_text(name)

    for page in (evil, victim):
        page.wait_for_timeout(300)  # an injected image's error would fire by now
        assert page.locator("img[src=x]").count() == 0
        assert page.locator("main b, main script").count() == 0
        assert page.locator("script").count() == 1  # the bundle only
        assert page.evaluate("typeof window.__pwned") == "undefined"
    assert evil_dialogs == [] and victim_dialogs == []
    shot(victim, "room-hostile-text")
    evil_context.close()
    victim_context.close()


def test_sessions_code_sign_in_and_errors_as_messages(browser: Browser, site: Site) -> None:
    first_context, first, user = signed_up(browser, site, "Sam Sessions")

    # A second browser: a wrong password shows Maria's message, the right one signs in.
    second_context = browser.new_context(base_url=site.url)
    second = second_context.new_page()
    second.goto("/console/sign-in")
    sign_in = form(second, "Sign in with a password")
    sign_in.get_by_label("Email").fill(user["email"])
    sign_in.get_by_label("Password").fill("not the password")
    sign_in.get_by_role("button", name="Sign in").click()
    wrong = api_message(
        site, "POST", "/api/v1/auth/login", {"email": email(), "password": "not the password"}
    )
    expect(sign_in.get_by_role("alert")).to_have_text(wrong)
    sign_in.get_by_label("Password").fill(PASSWORD)
    sign_in.get_by_role("button", name="Sign in").click()
    focused_heading(second, "Profile")

    # A validation error: the API's message, not a generic one.
    short = api_message(
        site,
        "POST",
        "/api/v1/auth/register",
        {"email": email(), "password": "short", "display_name": "x"},
    )
    nav(second, "Profile")
    change = form(second, "Change the password")
    change.get_by_label("Current password").fill(PASSWORD)
    change.get_by_label("New password").fill("short")
    change.get_by_role("button", name="Change the password").click()
    expect(change.get_by_role("alert")).to_have_text(short)

    nav(second, "Sessions")
    focused_heading(second, "Sessions")
    expect(second.locator("main table tbody tr")).to_have_count(2)
    expect(second.locator("tr.current")).to_contain_text("This device")
    shot(second, "sessions")
    second.get_by_role("button", name="Sign out everywhere else").click()
    expect(second.locator("#notice")).to_have_text("Every other session is signed out.")
    expect(second.locator("main table tbody tr")).to_have_count(1)
    first.evaluate("window.dispatchEvent(new Event('focus'))")
    heading(first, "Sign in")

    # The first browser signs in with a mailed code instead.
    code_form = form(first, "Mail me a sign-in code")
    code_form.get_by_label("Email").fill(user["email"])
    code_form.get_by_role("button", name="Email me a code").click()
    expect(first.locator("#notice")).to_contain_text("a code is on its way")
    mails = site.mail_to(user["email"], 2)  # the registration's link, then the code
    code = code_of(mails[-1])
    verify = form(first, "Sign in with the mailed code")
    verify.get_by_label("Six-digit code").fill(code)
    verify.get_by_role("button", name="Sign in with the code").click()
    focused_heading(first, "Profile")

    # "Sign out this device" on the other browser's row, then on this browser's own.
    nav(second, "Sessions")
    expect(second.locator("main table tbody tr")).to_have_count(2)
    second.locator("tr:not(.current)").get_by_role("button").click()
    expect(second.locator("#notice")).to_have_text("That device is signed out.")
    expect(second.locator("main table tbody tr")).to_have_count(1)
    first.evaluate("window.dispatchEvent(new Event('focus'))")
    heading(first, "Sign in")
    second.locator("tr.current").get_by_role("button", name="Sign out this device").click()
    heading(second, "Sign in")
    second.goto("/console/lists")  # a signed-in page now asks to sign in
    heading(second, "Sign in")
    first_context.close()
    second_context.close()


def test_password_change_export_and_account_deletion(
    browser: Browser, site: Site, tmp_path: Path
) -> None:
    context, page, user = signed_up(browser, site, "Del Leaving")
    fresh = "a completely new passphrase"
    change = form(page, "Change the password")
    change.get_by_label("Current password").fill(PASSWORD)
    change.get_by_label("New password").fill(fresh)
    change.get_by_role("button", name="Change the password").click()
    expect(page.locator("#notice")).to_contain_text("Your password is changed")

    with page.expect_download() as download:
        page.get_by_role("button", name="Download my data").click()
    assert download.value.suggested_filename == "maria-export.json"
    saved = tmp_path / "export.json"
    download.value.save_as(saved)
    assert user["email"] in saved.read_text()

    leave = form(page, "Delete the account")
    leave.get_by_label("Password", exact=True).fill(fresh)
    leave.get_by_role("button", name="Delete my account").click()
    expect(leave.get_by_role("alert")).to_have_text(
        "Tick the box to confirm that you want to delete the account."
    )
    leave.get_by_label(re.compile("^I understand")).check()
    leave.get_by_role("button", name="Delete my account").click()
    heading(page, "Sign in")
    expect(page.locator("#notice")).to_have_text("Your account is deleted.")
    gone = httpx.post(
        f"{site.url}/api/v1/auth/login",
        json={"email": user["email"], "password": fresh},
        timeout=30,
    )
    assert gone.status_code == 401
    context.close()


def test_phone_width_labels_and_keyboard(browser: Browser, site: Site) -> None:
    context, page, _ = signed_up(browser, site, "Pat Phone", phone=True)
    for path, title, name in [
        ("/console/profile", "Profile", "phone-profile"),
        ("/console/sessions", "Sessions", "phone-sessions"),
        ("/console/lists", "Lists", "phone-lists"),
        ("/console/lists/favorites", "Favorites", "phone-list"),
        ("/console/rooms", "Rooms", "phone-rooms"),
    ]:
        page.goto(path)
        heading(page, title)
        assert page.evaluate("document.documentElement.scrollWidth") <= 375, path
        assert unlabelled_controls(page) == [], path
        shot(page, name)

    # Keyboard only: the skip link first, then the navigation; focus visibly outlined.
    page.goto("/console/profile")
    heading(page, "Profile")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    for _ in range(12):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent") == "Lists":
            break
    else:
        raise AssertionError("the Lists link is not reachable with Tab")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"
    page.keyboard.press("Enter")
    focused_heading(page, "Lists")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('main') !== null")

    page.get_by_role("navigation", name="Main").get_by_role("button", name="Sign out").click()
    heading(page, "Sign in")
    expect(page.locator("#notice")).to_have_text("You are signed out.")
    context.close()


def test_signed_out_console_sign_in_page_is_labelled(browser: Browser, site: Site) -> None:
    context = browser.new_context(base_url=site.url)
    page = context.new_page()
    page.goto("/console/admin/users")
    heading(page, "Sign in")
    assert unlabelled_controls(page) == []
    page.goto("/console/no-such-page")
    heading(page, "Not found")
    context.close()


def test_docs_load_nothing_from_another_host(browser: Browser, site: Site) -> None:
    context = browser.new_context(base_url=site.url, viewport={"width": 1280, "height": 900})
    elsewhere: list[str] = []
    origin = site.url

    def only_here(route: object) -> None:
        request = route.request  # type: ignore[attr-defined]
        if request.url.startswith(origin) or request.url.startswith(("data:", "blob:")):
            route.continue_()  # type: ignore[attr-defined]
        else:
            elsewhere.append(request.url)
            route.abort()  # type: ignore[attr-defined]

    context.route("**/*", only_here)
    page = context.new_page()
    refused: list[str] = []
    page.on(
        "console",
        lambda msg: refused.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    page.goto("/docs")
    expect(page.locator(".opblock").first).to_be_visible(timeout=WAIT_MS)
    expect(page.locator(".opblock-summary-path", has_text="/api/v1/users/me").first).to_be_visible()
    shot(page, "docs", full_page=False)
    page.goto("/redoc")
    expect(page.get_by_role("heading", name=re.compile("^Maria")).first).to_be_visible(
        timeout=WAIT_MS
    )
    expect(page.get_by_text("/api/v1/users/me/lists").first).to_be_attached()
    shot(page, "redoc", full_page=False)
    assert elsewhere == []
    assert refused == []
    context.close()
