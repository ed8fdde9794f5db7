"""End to end: every capability of `tailpolicy lsp` on the fixtures in testdata/."""

import asyncio
import pathlib
import subprocess

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from conftest import BIN, ROOT

SINGLE = ROOT / "testdata" / "lsp" / "single" / "policy.hujson"
GOOD = ROOT / "testdata" / "multifile" / "good"
BROKEN = ROOT / "testdata" / "multifile" / "broken"


def pos(text: str, needle: str, delta: int = 1) -> types.Position:
    """The position `delta` characters into the first `needle` (ASCII fixtures)."""
    offset = text.index(needle) + delta
    line = text.count("\n", 0, offset)
    return types.Position(line=line, character=offset - (text.rfind("\n", 0, offset) + 1))


async def open_doc(client: LanguageClient, path: pathlib.Path, text: str | None = None):
    text = path.read_text() if text is None else text
    uri = path.as_uri()
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=uri, language_id="hujson", version=1, text=text)
        )
    )
    await wait_for(client, uri)
    return uri, text


async def wait_for(client: LanguageClient, uri: str):
    for _ in range(100):
        if uri in client.diagnostics:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"no diagnostics for {uri}")


def codes(client: LanguageClient, uri: str) -> list[str]:
    return [d.code for d in client.diagnostics[uri]]


@pytest.mark.asyncio
async def test_diagnostics_codes_related_tags(client: LanguageClient):
    uri, _ = await open_doc(client, SINGLE)
    diags = client.diagnostics[uri]
    assert [(d.code, d.range.start.line, d.range.start.character) for d in diags] == [
        ("TP1001", 5, 2),
        ("TP1005", 19, 2),
        ("TP0101", 20, 85),
    ]
    unused, shadowed, unknown = diags
    assert unused.tags == [types.DiagnosticTag.Unnecessary]
    assert unused.code_description.href.endswith("docs/rules.md#tp1001")
    assert unused.severity == types.DiagnosticSeverity.Warning
    assert shadowed.related_information[0].location.range.start.line == 18
    assert unknown.message.endswith("help: did you mean `proto`?")


@pytest.mark.asyncio
async def test_incremental_change_and_syntax_error_mid_edit(client: LanguageClient):
    uri, text = await open_doc(client, SINGLE)
    # Delete the closing brace of the file: a syntax error, then put it back.
    client.diagnostics.pop(uri)
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[
                types.TextDocumentContentChangeEvent_Type1(
                    range=types.Range(start=types.Position(line=26, character=0), end=types.Position(line=26, character=1)),
                    text="",
                )
            ],
        )
    )
    await wait_for(client, uri)
    assert all(c.startswith("TP00") for c in codes(client, uri)), codes(client, uri)
    # The server still answers mid-edit.
    hover = await client.text_document_hover_async(
        types.HoverParams(text_document=types.TextDocumentIdentifier(uri=uri), position=pos(text, '"group:data"'))
    )
    assert hover is None or hover.contents is not None
    client.diagnostics.pop(uri)
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=3),
            content_changes=[
                types.TextDocumentContentChangeEvent_Type1(
                    range=types.Range(start=types.Position(line=26, character=0), end=types.Position(line=26, character=0)),
                    text="}",
                )
            ],
        )
    )
    await wait_for(client, uri)
    assert codes(client, uri) == ["TP1001", "TP1005", "TP0101"]


@pytest.mark.asyncio
async def test_multifile_diagnostics_in_every_fragment(client: LanguageClient):
    base = BROKEN / "base.hujson"
    web = (BROKEN / "teams" / "web.hujson").as_uri()
    db = (BROKEN / "teams" / "data" / "db.hujson").as_uri()
    uri, text = await open_doc(client, base)
    for other in (web, db):
        await wait_for(client, other)
    at = lambda u: [(d.code, d.range.start.line, d.range.start.character) for d in client.diagnostics[u]]
    assert at(uri) == [("TP1003", 8, 2)]
    assert at(db) == [("TP0703", 8, 34)]
    assert at(web) == [("TP0701", 4, 2), ("TP0201", 14, 11)]
    related = client.diagnostics[web][0].related_information[0]
    assert (related.location.uri, related.location.range.start.line, related.message) == (
        uri,
        2,
        "first defined here",
    )
    # An edit in base.hujson that defines tag:web fixes web.hujson's TP0201.
    client.diagnostics.pop(web)
    line = text.split("\n").index('\t"tagOwners": {')
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[
                types.TextDocumentContentChangeEvent_Type1(
                    range=types.Range(start=types.Position(line=line + 1, character=0), end=types.Position(line=line + 1, character=0)),
                    text='\t\t"tag:web": ["group:platform"],\n',
                )
            ],
        )
    )
    await wait_for(client, web)
    assert at(web) == [("TP0701", 4, 2)]


@pytest.mark.asyncio
async def test_hover_group_tag_host_autogroup_code_rule(client: LanguageClient):
    uri, text = await open_doc(client, SINGLE)

    async def hover(needle: str, delta: int = 1) -> str:
        h = await client.text_document_hover_async(
            types.HoverParams(text_document=types.TextDocumentIdentifier(uri=uri), position=pos(text, needle, delta))
        )
        assert h is not None, needle
        return h.contents.value

    assert await hover('"group:platform"') == (
        "**group:platform** (group, 2 members)\n\n- `alice@example.com`\n- `bob@example.com`"
    )
    tag = await hover('"tag:k8s"')
    assert tag.startswith("**tag:k8s** (tag)\n\nOwners:\n- `group:platform`\n\nNodes:\n- ")
    assert await hover('"k8s-api"') == "**k8s-api** (host): `10.0.1.10`"
    assert (await hover('"autogroup:nonroot"')).startswith("**autogroup:nonroot**: Any local user except `root`")
    user = await hover('"carol@example.com"')
    assert user.startswith("**carol@example.com** (user)\n\nGroups:\n- `group:data`\n- `group:unused`")
    rule = await hover('{"action": "accept", "src": ["group:platform"], "dst": ["tag:k8s:22"]', 2)
    assert rule == (
        "**acls[1]** lets `group:platform` reach `tag:k8s:22`\n\n"
        "Reach (2 source–destination pairs):\n"
        "- `alice-laptop` → `k8s-api` 22\n"
        "- `bob-laptop` → `k8s-api` 22\n\n"
        "Already covered: acls[1] allows nothing beyond what is already allowed by acls[0]"
    )
    first = await hover('{"action": "accept", "src": ["group:platform"], "dst": ["tag:k8s:*"]', 2)
    assert first.endswith("No earlier rule covers it.")


@pytest.mark.asyncio
async def test_definition_references_rename_across_fragments(client: LanguageClient):
    web = GOOD / "teams" / "data.hujson"
    base = GOOD / "base.hujson"
    uri, text = await open_doc(client, web)
    needle = '"group:platform"'
    if needle not in text:
        pytest.fail("fixture changed: web.hujson no longer names group:platform")
    at = pos(text, needle)
    defs = await client.text_document_definition_async(
        types.DefinitionParams(text_document=types.TextDocumentIdentifier(uri=uri), position=at)
    )
    assert [d.uri for d in defs] == [base.as_uri()]
    refs = await client.text_document_references_async(
        types.ReferenceParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=at,
            context=types.ReferenceContext(include_declaration=True),
        )
    )
    assert {r.uri for r in refs} >= {base.as_uri(), uri}
    edit = await client.text_document_rename_async(
        types.RenameParams(text_document=types.TextDocumentIdentifier(uri=uri), position=at, new_name="platform-team")
    )
    assert sum(len(v) for v in edit.changes.values()) == len(refs)
    assert {e.new_text for v in edit.changes.values() for e in v} == {"group:platform-team"}


@pytest.mark.asyncio
async def test_prepare_rename_refuses_autogroups_and_users(client: LanguageClient):
    uri, text = await open_doc(client, SINGLE)
    for needle in ['"autogroup:nonroot"', '"carol@example.com"']:
        with pytest.raises(Exception):
            await client.text_document_prepare_rename_async(
                types.PrepareRenameParams(text_document=types.TextDocumentIdentifier(uri=uri), position=pos(text, needle))
            )
    ok = await client.text_document_prepare_rename_async(
        types.PrepareRenameParams(text_document=types.TextDocumentIdentifier(uri=uri), position=pos(text, '"tag:db"'))
    )
    assert ok is not None


@pytest.mark.asyncio
async def test_completion(client: LanguageClient):
    path = SINGLE
    text = path.read_text().replace('"dst": ["tag:k8s"], "users"', '"dst": ["ta"], "users"').replace('"proot"', '"proto"')
    uri, text = await open_doc(client, path, text)

    async def labels(needle: str, delta: int) -> list[str]:
        result = await client.text_document_completion_async(
            types.CompletionParams(text_document=types.TextDocumentIdentifier(uri=uri), position=pos(text, needle, delta))
        )
        items = result.items if hasattr(result, "items") else result
        return [i.label for i in items]

    ssh_dst = await labels('["ta"], "users"', 4)
    assert {"group:platform", "tag:k8s", "tag:db", "k8s-api", "autogroup:self"} <= set(ssh_dst)
    assert "autogroup:internet" not in ssh_dst
    users = await labels('"autogroup:nonroot"', 2)
    assert "autogroup:nonroot" in users and "autogroup:member" not in users
    top = await labels('"groups"', 1)
    assert {"acls", "grants", "ssh", "tagOwners"} <= set(top)
    assert await labels('"tcp"}', 1) == ["tcp", "udp", "icmp", "ipv6-icmp", "sctp", "gre", "esp", "ah", "igmp"]


@pytest.mark.asyncio
async def test_document_symbols(client: LanguageClient):
    uri, _ = await open_doc(client, SINGLE)
    syms = await client.text_document_document_symbol_async(
        types.DocumentSymbolParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )
    assert [s.name for s in syms] == ["groups", "tagOwners", "hosts", "acls", "ssh"]
    assert [c.name for c in syms[0].children] == ["group:platform", "group:data", "group:unused"]
    assert [c.name for c in syms[3].children] == ["acls[0]", "acls[1]", "acls[2]"]


@pytest.mark.asyncio
async def test_formatting_is_tailpolicy_fmt(client: LanguageClient):
    ugly = '{"groups":{"group:a":["alice@example.com"]},\n"acls":[{"action":"accept","src":["group:a"],"dst":["*:*"]}]}'
    path = ROOT / "testdata" / "lsp" / "single" / "unformatted.hujson"
    uri, _ = await open_doc(client, path, ugly)
    edits = await client.text_document_formatting_async(
        types.DocumentFormattingParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            options=types.FormattingOptions(tab_size=4, insert_spaces=False),
        )
    )
    expected = subprocess.run([BIN, "fmt", "-"], input=ugly, capture_output=True, text=True).stdout
    assert len(edits) == 1 and edits[0].new_text == expected


@pytest.mark.asyncio
async def test_code_actions(client: LanguageClient):
    uri, text = await open_doc(client, SINGLE)
    diag = next(d for d in client.diagnostics[uri] if d.code == "TP0101")
    actions = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=diag.range,
            context=types.CodeActionContext(diagnostics=[diag]),
        )
    )
    titles = [a.title for a in actions]
    assert titles == ['Replace with "proto"', "Ignore TP0101 on this line (tailpolicy:ignore)"]
    fix = actions[0].edit.changes[uri][0]
    assert fix.range == diag.range and fix.new_text == '"proto"'
    fix_all = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=types.Range(start=types.Position(line=0, character=0), end=types.Position(line=0, character=0)),
            context=types.CodeActionContext(diagnostics=[], only=[types.CodeActionKind.SourceFixAll]),
        )
    )
    assert [a.kind for a in fix_all] == [types.CodeActionKind.SourceFixAll]


@pytest.mark.asyncio
async def test_robust_unknown_method(client: LanguageClient):
    with pytest.raises(Exception, match="unknown method"):
        await client.protocol.send_request_async("tailpolicy/nothing", {})
    # Still serving.
    uri, _ = await open_doc(client, SINGLE)
    assert codes(client, uri)


def decode(data: list[int]) -> list[tuple[int, int, int, int]]:
    out, line, char = [], 0, 0
    for i in range(0, len(data), 5):
        dl, ds, length, kind, _ = data[i : i + 5]
        line += dl
        char = ds if dl else char + ds
        out.append((line, char, length, kind))
    return out


@pytest.mark.asyncio
async def test_semantic_tokens_and_inlay_hints(client: LanguageClient):
    uri, text = await open_doc(client, SINGLE)
    legend = ["group", "tag", "autogroup", "host", "ipset", "posture", "user", "cidr"]
    tokens = await client.text_document_semantic_tokens_full_async(
        types.SemanticTokensParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )
    decoded = decode(tokens.data)
    named = {(text.splitlines()[l][c : c + n], legend[k]) for l, c, n, k in decoded}
    assert {
        ("group:platform", "group"),
        ("alice@example.com", "user"),
        ("tag:k8s", "tag"),
        ("k8s-api", "host"),
        ("10.0.1.10", "cidr"),
        ("autogroup:nonroot", "autogroup"),
    } <= named, named
    hints = await client.text_document_inlay_hint_async(
        types.InlayHintParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=types.Range(start=types.Position(line=0, character=0), end=types.Position(line=30, character=0)),
        )
    )
    # Each group's member count; each rule's senders and the nodes enforcing it (with
    # the fixture's inventory: the platform team's two laptops reach the one `tag:k8s`
    # node; carol's laptop reaches `tag:db`'s node, while `k8s-api` sits behind a route
    # that nothing approves here).
    assert [(h.position.line, h.label) for h in hints] == [
        (3, "2 members"),
        (4, "1 member"),
        (5, "1 member"),
        (18, "2 nodes → 1 node"),
        (19, "2 nodes → 1 node"),
        (20, "1 node → 1 node"),
    ]
    # Only what is in view: a range over the groups gives no rule hints.
    hints = await client.text_document_inlay_hint_async(
        types.InlayHintParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=types.Range(start=types.Position(line=2, character=0), end=types.Position(line=7, character=0)),
        )
    )
    assert [h.label for h in hints] == ["2 members", "1 member", "1 member"]


async def actions_for(client: LanguageClient, uri: str, code: str):
    diag = next(d for d in client.diagnostics[uri] if d.code == code)
    actions = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=diag.range,
            context=types.CodeActionContext(diagnostics=[diag]),
        )
    )
    return {a.title: a.edit.changes[uri] for a in actions if a.edit}


def apply(text: str, edits) -> str:
    lines = text.split("\n")
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line) + 1)
    for e in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True):
        a = offsets[e.range.start.line] + e.range.start.character
        b = offsets[e.range.end.line] + e.range.end.character
        text = text[:a] + e.new_text + text[b:]
    return text


@pytest.mark.asyncio
async def test_code_actions_remove_unused_add_tag_owner_convert_legacy(client: LanguageClient):
    uri, text = await open_doc(client, SINGLE)
    actions = await actions_for(client, uri, "TP1001")
    removed = apply(text, actions["Remove the unused definition"])
    assert removed == text.replace('\t\t"group:unused":   ["carol@example.com"],\n', "")

    legacy = (
        '{"tagOwners": {"tag:a": ["autogroup:admin"]},\n'
        '"acls": [{"action": "accept", "users": ["tag:a", "tag:zz"], "ports": ["tag:a:22"]}]}\n'
    )
    path = ROOT / "testdata" / "lsp" / "single" / "legacy.hujson"
    uri, _ = await open_doc(client, path, legacy)
    actions = await actions_for(client, uri, "TP1010")
    assert apply(legacy, actions["Rename `users`/`ports` to `src`/`dst`"]) == legacy.replace(
        '"users"', '"src"'
    ).replace('"ports"', '"dst"')
    actions = await actions_for(client, uri, "TP0201")
    assert apply(legacy, actions["Add `tag:zz` to tagOwners"]).startswith(
        '{"tagOwners": {"tag:zz": [], "tag:a": ["autogroup:admin"]},'
    )
    assert apply(legacy, actions['Replace with "tag:a"']).count('"tag:zz"') == 0


@pytest.mark.asyncio
async def test_inventory_reread_when_it_changes_on_disk(client: LanguageClient, tmp_path: pathlib.Path):
    (tmp_path / "tailpolicy.toml").write_text('nodes = "nodes.json"\n')
    nodes = tmp_path / "nodes.json"
    nodes.write_text((ROOT / "testdata" / "example" / "nodes.json").read_text())
    policy = tmp_path / "policy.hujson"
    uri, text = await open_doc(client, policy, SINGLE.read_text())
    assert nodes.as_uri() not in client.diagnostics or client.diagnostics[nodes.as_uri()] == []
    nodes.write_text('{"nodes": [')
    await wait_for(client, nodes.as_uri())
    assert [d.code for d in client.diagnostics[nodes.as_uri()]] == ["TP0001"]
    # Hover on a tag no longer lists nodes once the inventory is broken.
    h = await client.text_document_hover_async(
        types.HoverParams(text_document=types.TextDocumentIdentifier(uri=uri), position=pos(text, '"tag:k8s"'))
    )
    assert h.contents.value == "**tag:k8s** (tag)\n\nOwners:\n- `group:platform`"
