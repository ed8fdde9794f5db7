//! Lints beyond Tailscale (`TP1xxx`): warnings about valid policies that are probably
//! not what their authors meant.

use crate::declare_rule;

declare_rule!(
    UNUSED_GROUP,
    "TP1001",
    "unused-group",
    Style,
    Warning,
    "a group is defined but never used",
    what = "Reports `groups` entries that no rule, SSH rule, tag owner, approver, node attribute or test mentions.",
    why = "Dead definitions make reviewers believe someone has access they do not; often the rule that used it was renamed.",
    example = "{ \"groups\": { \"group:old-team\": [\"alice@example.com\"] }, \"acls\": [] }",
    fix = "Remove the group, or use it.",
);

declare_rule!(
    UNUSED_HOST,
    "TP1002",
    "unused-host",
    Style,
    Warning,
    "a host alias is defined but never used",
    what = "Reports `hosts` entries that nothing refers to.",
    why = "Dead definitions mislead readers about what the policy reaches.",
    example = "{ \"hosts\": { \"legacy-db\": \"10.0.0.9\" }, \"acls\": [] }",
    fix = "Remove the host alias, or use it.",
);

declare_rule!(
    UNUSED_TAG,
    "TP1003",
    "unused-tag",
    Style,
    Info,
    "a tag is defined but no rule mentions it",
    what = "Reports `tagOwners` entries that no rule, SSH rule, approver, node attribute, test or other tag owner mentions.",
    why = "Often fine (tagging a device removes its user identity), but it may also be a rule that was forgotten.",
    example = "{ \"tagOwners\": { \"tag:printer\": [\"autogroup:admin\"] }, \"acls\": [] }",
    fix = "Nothing, if tagging is the point; otherwise write the rule or remove the tag.",
);

declare_rule!(
    UNUSED_IPSET,
    "TP1004",
    "unused-ipset",
    Style,
    Warning,
    "an ipset is defined but never used",
    what = "Reports `ipsets` entries that no rule or other ipset refers to.",
    why = "Dead definitions mislead readers.",
    example = "{ \"ipsets\": { \"ipset:old\": [\"10.0.0.0/8\"] }, \"acls\": [] }",
    fix = "Remove it, or use it.",
);

declare_rule!(
    SHADOWED_RULE,
    "TP1005",
    "shadowed-rule",
    Suspicious,
    Warning,
    "a rule allows nothing that an earlier rule does not already allow",
    what = "Compares each acl and grant with the earlier ones of its section: when an earlier rule's sources, destinations, ports and protocols cover this one's, this rule has no effect.",
    why = "Tailscale rules only add access, so a covered rule is dead weight; often the earlier rule is broader than intended.",
    example = "{ \"acls\": [\n  { \"action\": \"accept\", \"src\": [\"*\"], \"dst\": [\"tag:web:*\"] },\n  { \"action\": \"accept\", \"src\": [\"group:dev\"], \"dst\": [\"tag:web:443\"] }\n] }",
    fix = "Remove the covered rule, or narrow the earlier one.",
);

declare_rule!(
    DUPLICATE_RULE,
    "TP1006",
    "duplicate-rule",
    Suspicious,
    Warning,
    "a rule is identical to an earlier one",
    what = "Reports acls and grants that repeat an earlier entry of the same section exactly (order of selectors ignored).",
    why = "Duplicates add nothing and hide edits: changing one copy changes nothing.",
    example = "{ \"acls\": [\n  { \"action\": \"accept\", \"src\": [\"group:dev\"], \"dst\": [\"tag:web:443\"] },\n  { \"action\": \"accept\", \"src\": [\"group:dev\"], \"dst\": [\"tag:web:443\"] }\n] }",
    fix = "Remove the copy.",
);

declare_rule!(
    ALLOW_ALL_RULE,
    "TP1007",
    "allow-all-rule",
    Suspicious,
    Warning,
    "a rule allows every source to reach every destination on every port",
    what = "Reports `*` to `*:*` ACLs and `*` to `*` grants with `ip: [\"*\"]`.",
    why = "It makes every other rule redundant; it is Tailscale's default policy and rarely what a team means to keep.",
    example = "{ \"acls\": [{ \"action\": \"accept\", \"src\": [\"*\"], \"dst\": [\"*:*\"] }] }",
    fix = "Replace it with rules for the access that is needed.",
);

declare_rule!(
    EMPTY_RULES_DENY_ALL,
    "TP1008",
    "empty-rules-deny-all",
    Suspicious,
    Warning,
    "`acls: []` or `grants: []` with no other rules denies everything",
    what = "Reports a policy whose only network rules section is present but empty.",
    why = "An empty list is not the same as a missing one: a missing `acls` and `grants` allows everything, an empty one allows nothing.",
    example = "{ \"acls\": [] }",
    fix = "Add the rules that are needed, or remove the key to fall back to allow-all on purpose.",
);

declare_rule!(
    TEST_CANNOT_FAIL,
    "TP1009",
    "test-cannot-fail",
    Suspicious,
    Warning,
    "a test entry asserts nothing",
    what = "Reports `tests` entries with empty `accept` and `deny` lists, and `sshTests` entries with empty `accept`, `check` and `deny`.",
    why = "A test that cannot fail gives false confidence.",
    example = "{ \"tests\": [{ \"src\": \"alice@example.com\", \"accept\": [] }] }",
    fix = "List the destinations that must be reachable and those that must not.",
);

declare_rule!(
    LEGACY_FIELD_NAMES,
    "TP1010",
    "legacy-field-names",
    Style,
    Warning,
    "the legacy `users`/`ports` (ACLs) or `user`/`allow` (tests) names",
    what = "Reports the old field names that Tailscale still accepts.",
    why =
        "They are undocumented today, headscale rejects them, and newcomers do not recognise them.",
    example =
        "{ \"acls\": [{ \"action\": \"accept\", \"users\": [\"*\"], \"ports\": [\"*:*\"] }] }",
    fix = "Rename `users` to `src`, `ports` to `dst`, `user` to `src`, `allow` to `accept`.",
);

declare_rule!(
    LEGACY_AUTOGROUP_MEMBERS,
    "TP1011",
    "legacy-autogroup-members",
    Style,
    Warning,
    "the legacy spelling `autogroup:members`",
    what = "Reports the plural `autogroup:members`.",
    why =
        "The current name is `autogroup:member`; the plural is an old alias that may stop working.",
    example = "{ \"ssh\": [{ \"action\": \"check\", \"src\": [\"autogroup:members\"], \"dst\": [\"autogroup:self\"], \"users\": [\"autogroup:nonroot\"] }] }",
    fix = "Write `autogroup:member`.",
);

declare_rule!(
    CHECK_PERIOD_ON_ACCEPT,
    "TP1012",
    "check-period-on-accept",
    Suspicious,
    Warning,
    "`checkPeriod` on an SSH rule whose action is `accept`",
    what = "Reports `checkPeriod` on `accept` rules.",
    why = "Only `check` rules re-authenticate; the period is ignored, and the author probably meant `check`.",
    example = "{ \"ssh\": [{ \"action\": \"accept\", \"src\": [\"group:dev\"], \"dst\": [\"tag:prod\"], \"users\": [\"root\"], \"checkPeriod\": \"1h\" }] }",
    fix = "Use `\"action\": \"check\"`, or remove `checkPeriod`.",
);

declare_rule!(
    HOST_BITS_SET,
    "TP1013",
    "host-bits-set",
    Suspicious,
    Warning,
    "a CIDR prefix with host bits set",
    what = "Reports prefixes such as `10.20.10.1/29` whose address is not the first address of the network.",
    why = "The prefix means `10.20.10.0/29`; the Tailscale client rejects such prefixes in packet filters, and readers misread them.",
    example = "{ \"hosts\": { \"web\": \"10.20.10.1/29\" } }",
    fix = "Write the network address: `\"10.20.10.0/29\"`, or the single host `\"10.20.10.1\"`.",
);

declare_rule!(
    TEMPLATE_PLACEHOLDER,
    "TP1014",
    "template-placeholder",
    Suspicious,
    Warning,
    "a template placeholder left unexpanded in a string",
    what = "Reports `${VAR}`, `{{ var }}` and `%VAR%` in any key or string value.",
    why = "The policy was meant to go through a template engine (Terraform, Helm, envsubst) first; as written, the placeholder is a literal name that matches nothing, or an error.",
    example = "{ \"acls\": [{ \"action\": \"accept\", \"src\": [\"${ADMIN_EMAIL}\"], \"dst\": [\"*:*\"] }] }",
    fix = "Render the template before checking it, or write the value.",
);

declare_rule!(
    UNKNOWN_NODE_ATTRIBUTE,
    "TP1015",
    "unknown-node-attribute",
    Suspicious,
    Warning,
    "a node attribute that no Tailscale client knows",
    what = "Reports `nodeAttrs` `attr` names that are neither documented nor node capabilities of Tailscale's `tailcfg` (URLs and `domain/path` names are custom capabilities and are not checked), with a \"did you mean\" for misspellings.",
    why = "The control plane passes unknown attributes through and the client ignores them: a misspelt `funel` silently leaves Funnel off.",
    example = "{ \"nodeAttrs\": [{ \"target\": [\"*\"], \"attr\": [\"funel\"] }] }",
    fix = "Fix the spelling (`funnel`), or remove the attribute.",
);
