"""The room page of issue 13 in a real Chromium, two (or more) people in one room: the ready
gate, the shared queue, reactions, moderation, private rooms and invites — and an
attacker's name and text on reactions stay text."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, Locator, Page, expect

from tests.console.browser import (
    Site,
    dialogs_of,
    focused_heading,
    form,
    heading,
    range_value,
    shot,
    signed_up,
    unlabelled_controls,
    until,
)

PHONE = 390


def create_room(page: Page, title: str, movie: str = "301", *, private: bool = False) -> str:
    page.goto("/console/rooms")
    heading(page, "Rooms")
    create = form(page, "Create a room")
    create.get_by_label("Kinopoisk id of the movie").fill(movie)
    create.get_by_label("Title (optional)").fill(title)
    if private:
        create.get_by_label(re.compile("^Private")).check()
    create.get_by_role("button", name="Create the room").click()
    focused_heading(page, title)
    connected(page)
    room_id: str = page.get_by_label("Room id", exact=True).input_value()
    return room_id


def connected(page: Page) -> None:
    expect(page.get_by_role("status").filter(has_text="Connected")).to_be_visible()


def room_state(page: Page) -> Locator:
    return page.locator(".room-state")


def member(page: Page, name: str) -> Locator:
    return page.locator(".members li").filter(has_text=name)


def chat_log(page: Page) -> Locator:
    return page.get_by_role("log", name="Chat messages")


def say(page: Page, text: str) -> None:
    page.get_by_label("Message", exact=True).fill(text)
    page.get_by_role("button", name="Send").click()


def test_ready_gate_queue_reactions_and_moderation(browser: Browser, site: Site) -> None:
    host_context, host, _ = signed_up(browser, site, "Host Hanna")
    guest_context, guest, _ = signed_up(browser, site, "Guest Gil")
    room_id = create_room(host, "Movie night")
    guest.goto(f"/console/rooms/{room_id}")
    heading(guest, "Movie night")
    connected(guest)

    # Both report ready on joining (the console has no real player).
    for page in (host, guest):
        for name in ("Host Hanna", "Guest Gil"):
            expect(member(page, name).locator(".ready-state")).to_have_text("ready")
        expect(room_state(page)).to_have_text("Paused at 0:00")

    # The guest's player buffers: the host's play waits for them, on both pages.
    guest.get_by_label("Buffering").check()
    expect(member(host, "Guest Gil").locator(".ready-state")).to_have_text("buffering")
    host.get_by_role("button", name="Play", exact=True).click()
    for page in (host, guest):
        expect(room_state(page)).to_have_text("Waiting for 1 to be ready… (Guest Gil)")
    expect(host.get_by_role("button", name="Play anyway")).to_be_visible()
    expect(guest.get_by_role("button", name="Play anyway")).to_be_hidden()  # not a controller
    host.wait_for_timeout(1000)
    assert range_value(host) == 0 and range_value(guest) == 0  # nobody starts alone
    shot(host, "room-waiting")

    # Ready: the scheduled start reaches both, and the timelines run together.
    guest.get_by_label("Ready", exact=True).check()
    for page in (host, guest):
        expect(room_state(page)).to_have_text("Playing")
    until("both timelines move", lambda: range_value(host) >= 2 and range_value(guest) >= 2)
    for _ in range(3):
        assert abs(range_value(host) - range_value(guest)) <= 1
        host.wait_for_timeout(400)

    # The queue: the host adds two films and moves to the next; both show the same entry.
    expect(guest.get_by_role("form", name="Add a film to the queue")).to_be_hidden()
    add = form(host, "Add a film to the queue")
    for movie in ("326", "435"):
        add.get_by_label("Kinopoisk id").fill(movie)
        add.get_by_role("button", name="Add to the queue").click()
        expect(guest.locator(".queue li").filter(has_text=f"Movie {movie}")).to_be_visible()
    host.get_by_role("button", name="Next", exact=True).click()
    for page in (host, guest):
        expect(page.locator(".queue li[aria-current=true]")).to_have_text(re.compile("^Movie 326"))
        expect(page.locator(".now-playing")).to_have_text("Now: movie 326, 1 of 2")
    host.get_by_role("button", name="Next", exact=True).click()
    for page in (host, guest):
        expect(page.locator(".queue li[aria-current=true]")).to_have_text(re.compile("^Movie 435"))
    # A media change sets everyone buffering; the console "loads" it at once: ready again.
    for page in (host, guest):
        expect(room_state(page)).to_have_text("Playing")
    until("both timelines run again", lambda: range_value(host) >= 1 and range_value(guest) >= 1)
    host.get_by_role("button", name="Move movie 435 (2) up").click()
    expect(guest.locator(".queue li").first).to_have_text(re.compile("^Movie 435"))

    # Reactions: at the position, and on a message; both pages show them.
    host.get_by_role("button", name="React with popcorn at the current position").click()
    for page in (host, guest):
        expect(
            page.get_by_role("list", name="Recent reactions").locator("li").first
        ).to_contain_text(re.compile(r"🍿 Host Hanna at \d+:\d\d"))
    say(host, "Hello, Gil")
    expect(chat_log(guest).locator("li .text")).to_have_text(["Hello, Gil"])
    guest.get_by_role("button", name="React to Host Hanna's message").click()
    guest.get_by_role("button", name="React with heart to Host Hanna's message").click()
    for page in (host, guest):
        chip = chat_log(page).locator("li", has_text="Hello, Gil").locator(".chip")
        expect(chip).to_have_text("❤️ 1")
        expect(chip.get_by_role("img", name="heart")).to_be_visible()
    shot(guest, "room-guest-reactions")

    # Moderation: muting disables the guest's chat box, saying why; the server refuses too.
    expect(guest.get_by_role("button", name="Mute Host Hanna")).to_have_count(0)
    host.get_by_role("button", name="Mute Guest Gil").click()
    expect(chat_log(host).locator(".notice-line").last).to_have_text("Host Hanna muted Guest Gil")
    expect(chat_log(guest).locator(".notice-line").last).to_have_text("Host Hanna muted Guest Gil")
    box = guest.get_by_label("Message", exact=True)
    expect(box).to_be_disabled()
    expect(guest.locator(".chat-closed")).to_have_text(
        "You are muted in this room: you cannot chat or react."
    )
    expect(member(host, "Guest Gil").locator(".badge", has_text="muted")).to_be_visible()
    # A page that would send anyway (the box enabled by hand) is refused by Maria.
    guest.evaluate(
        "() => document.querySelectorAll('form[aria-label=\"Send a chat message\"] [disabled]')"
        ".forEach(el => el.removeAttribute('disabled'))"
    )
    say(guest, "let me talk")
    expect(guest.locator("main > .error[role=alert]")).to_have_text("You are muted in this room")
    expect(chat_log(host).locator("li .text")).to_have_text(["Hello, Gil"])

    # Unmute, then lock: members may not write, the host may.
    # By keyboard: the member list re-renders, and focus stays on the same button.
    host.get_by_role("button", name="Unmute Guest Gil").focus()
    host.keyboard.press("Enter")
    expect(box).to_be_enabled()
    expect(host.get_by_role("button", name="Mute Guest Gil")).to_be_focused()
    host.get_by_role("button", name="Lock the chat").click()
    expect(box).to_be_disabled()
    expect(guest.locator(".chat-closed")).to_have_text(
        "The chat is locked: only the host and co-hosts can write."
    )
    expect(host.get_by_label("Message", exact=True)).to_be_enabled()
    host.get_by_role("button", name="Unlock the chat").click()
    expect(box).to_be_enabled()

    # A co-host controls and moderates; made a member again, no longer.
    host.get_by_role("button", name="Make Guest Gil a co-host").click()
    expect(chat_log(guest).locator(".notice-line").last).to_have_text(
        "Host Hanna made Guest Gil a co-host"
    )
    expect(guest.get_by_role("button", name="Play anyway")).to_be_hidden()
    expect(guest.get_by_role("button", name="Pause")).to_be_enabled()
    expect(guest.get_by_role("heading", name="Access and invites")).to_be_visible()
    host.get_by_role("button", name="Make Guest Gil a member").click()
    expect(guest.get_by_role("heading", name="Access and invites")).to_be_hidden()
    expect(guest.get_by_role("button", name="Pause")).to_be_disabled()

    # The host's page at phone width: nothing wider than the screen, every control named.
    host.set_viewport_size({"width": PHONE, "height": 844})
    host.wait_for_timeout(200)
    assert host.evaluate("document.documentElement.scrollWidth") <= PHONE
    assert unlabelled_controls(host) == []
    shot(host, "phone-room")
    host.set_viewport_size({"width": 1200, "height": 900})
    shot(host, "room-host")

    # Clear the chat: messages go on both pages, the notice says who.
    host.get_by_role("button", name="Clear the chat").click()
    host.get_by_role("button", name="Yes, clear the chat").click()
    for page in (host, guest):
        expect(chat_log(page).locator("li .text")).to_have_count(0)
        expect(chat_log(page).locator(".notice-line").last).to_have_text(
            "Host Hanna cleared the chat"
        )

    # Kick: the guest's page says they were removed; the host's chat says who did it.
    host.get_by_role("button", name="Remove Guest Gil from the room").click()
    expect(guest.locator(".removed")).to_have_text("You were removed from this room.")
    expect(guest.get_by_role("status").filter(has_text="Disconnected")).to_be_visible()
    expect(chat_log(host).locator(".notice-line").last).to_have_text(
        "Host Hanna removed Guest Gil from the room"
    )
    expect(member(host, "Guest Gil")).to_have_count(0)
    shot(guest, "room-removed")
    guest.reload()  # banned for a while: coming back says so
    heading(guest, "Movie night")
    expect(guest.locator(".removed")).to_have_text(
        re.compile(r"^You were removed from this room: you may come back in \d+ s\.$")
    )
    host_context.close()
    guest_context.close()


def test_private_room_invites_and_the_room_list(browser: Browser, site: Site) -> None:
    host_context, host, _ = signed_up(browser, site, "Host Ines")
    host_context.grant_permissions(["clipboard-read", "clipboard-write"])
    friend_context, friend, _ = signed_up(browser, site, "Friend Fred")
    late_context, late, _ = signed_up(browser, site, "Late Lou")
    room_id = create_room(host, "Private screening", private=True)
    expect(host.get_by_text("Private: with an invite only ·")).to_be_visible()

    # Without an invite a private room is not there.
    friend.goto(f"/console/rooms/{room_id}")
    heading(friend, "Could not open the room")
    expect(friend.get_by_role("alert")).to_have_text(re.compile(r"\S"))

    # The host makes an invite link (the console's room page with the token) and copies it.
    invites = form(host, "Create an invite")
    invites.get_by_label("Expires after").select_option("3600")
    invites.get_by_role("button", name="Create an invite link").click()
    made = host.get_by_label("Invite link", exact=True).first
    expect(made).to_have_value(
        re.compile(rf"^{re.escape(site.url)}/console/rooms/{room_id}\?invite=i1\.[\w.%-]+$")
    )
    link = made.input_value()
    host.get_by_role("button", name="Copy the invite link").click()
    expect(host.get_by_text("Copied.")).to_be_visible()
    assert host.evaluate("navigator.clipboard.readText()") == link
    expect(host.locator(".invites tbody tr")).to_have_count(1)

    # With it the friend gets in (and the address no longer carries the token).
    friend.goto(link)
    heading(friend, "Private screening")
    connected(friend)
    assert "invite=" not in friend.url
    expect(member(host, "Friend Fred")).to_be_visible()
    friend.reload()  # redeemed: the room is open to them from now on
    heading(friend, "Private screening")
    connected(friend)

    # A single-use invite, revoked: its message, not the room.
    invites.get_by_label("Single use (one person only)").check()
    invites.get_by_role("button", name="Create an invite link").click()
    expect(host.locator(".invites tbody tr")).to_have_count(2)
    expect(made).not_to_have_value(link)
    revoked = made.input_value()
    host.locator(".invites tbody tr").first.get_by_role(
        "button", name=re.compile("^Revoke")
    ).click()
    expect(host.locator("#notice")).to_have_text("The invite is revoked.")
    expect(host.locator(".invites tbody tr").first.locator("td").nth(2)).to_have_text("revoked")
    late.goto(revoked)
    heading(late, "Could not join the room")
    expect(late.get_by_role("alert")).to_contain_text("revoked")
    shot(late, "room-invite-revoked")
    shot(host, "room-access")

    # Visibility and capacity: the host changes them, the page says so.
    access = form(host, "Room access")
    access.get_by_label("Capacity").fill("5")
    access.get_by_role("button", name="Save").click()
    expect(host.locator("#notice")).to_have_text(
        "Saved: Private: with an invite only · up to 5 people."
    )
    access.get_by_label("Capacity").fill("0")
    access.get_by_role("button", name="Save").click()
    expect(access.get_by_role("alert")).to_have_text(
        "The capacity is a whole number from 1 up, or empty."
    )

    # The room list: the host hosts it, the friend was in it, the late one has none.
    for page, role in ((host, "Host"), (friend, "Member")):
        page.goto("/console/rooms")
        heading(page, "Rooms")
        row = page.locator("main table tbody tr").filter(has_text="Private screening")
        expect(row).to_have_count(1)
        expect(row.locator("td").nth(2)).to_have_text(role)
        expect(row.locator("td").nth(3)).to_have_text("Private")
    shot(host, "rooms")
    late.goto("/console/rooms")
    heading(late, "Rooms")
    expect(late.get_by_text("No rooms yet")).to_be_visible()
    # The join form takes an invite link as well as an id.
    join = form(friend, "Join a room")
    join.get_by_label("Room id or invite link").fill(link)
    join.get_by_role("button", name="Join").click()
    focused_heading(friend, "Private screening")
    for context in (host_context, friend_context, late_context):
        context.close()


def test_hostile_names_on_reactions_stay_text(browser: Browser, site: Site) -> None:
    name = "<img src=x onerror=alert(1)>"
    message = "<script>alert(2)</script>"
    evil_context, evil, _ = signed_up(browser, site, name)
    victim_context, victim, _ = signed_up(browser, site, "Vic")
    evil_dialogs, victim_dialogs = dialogs_of(evil), dialogs_of(victim)
    room_id = create_room(evil, "Reactions")
    victim.goto(f"/console/rooms/{room_id}")
    connected(victim)

    say(evil, message)
    expect(chat_log(victim).locator("li .text")).to_have_text([message])
    evil.get_by_role("button", name=f"React to {name}'s message").click()
    evil.get_by_role("button", name=f"React with fire to {name}'s message").click()
    evil.get_by_role("button", name="React with skull at the current position").click()
    recent = victim.get_by_role("list", name="Recent reactions").locator("li")
    expect(recent).to_have_count(2)
    expect(recent.first.locator(".who")).to_have_text(name)
    expect(chat_log(victim).locator(".chip")).to_have_text("🔥 1")

    for page in (evil, victim):
        page.wait_for_timeout(300)
        assert page.locator("img[src=x]").count() == 0
        assert page.locator("main script").count() == 0
        assert page.locator("script").count() == 1  # the bundle only
    assert evil_dialogs == [] and victim_dialogs == []
    shot(victim, "room-hostile-reactions")
    evil_context.close()
    victim_context.close()
