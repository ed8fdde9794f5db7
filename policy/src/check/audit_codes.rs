//! The security-audit lints (`TP11xx`): valid policies whose access is broader than a
//! reviewer would sign off on. Not run by default: select them (`select = ["TP11"]` in
//! tailpolicy.toml, or `CheckOptions::audit`).

use crate::declare_rule;

declare_rule!(
    AUDIT_DEFAULT_ALLOW_ALL,
    "TP1101",
    "audit-default-allow-all",
    Suspicious,
    Warning,
    "the policy has neither `acls` nor `grants`, so everything is allowed",
    what = "Reports a policy without an `acls` and without a `grants` section.",
    why = "Both Tailscale and headscale then allow every device to reach every other device on every port: the tailnet has no segmentation at all.",
    example = "{ \"groups\": { \"group:dev\": [\"alice@example.com\"] } }",
    fix = "Write the access that is needed, e.g. `\"grants\": [{ \"src\": [\"group:dev\"], \"dst\": [\"tag:dev\"], \"ip\": [\"*\"] }]`.",
);

declare_rule!(
    AUDIT_SSH_ACCEPT_USER_DEVICES,
    "TP1102",
    "audit-ssh-accept-user-devices",
    Suspicious,
    Warning,
    "SSH into people's own devices with `accept` rather than `check`",
    what = "Reports SSH rules with `\"action\": \"accept\"` whose destinations are user devices (`autogroup:self`, `autogroup:member`, a user).",
    why = "A stolen or unattended session key then opens a shell on a person's laptop without any re-authentication.",
    example = "{ \"ssh\": [{ \"action\": \"accept\", \"src\": [\"autogroup:member\"], \"dst\": [\"autogroup:self\"], \"users\": [\"autogroup:nonroot\"] }] }",
    fix = "Use `\"action\": \"check\"` (with a `checkPeriod`) for user devices.",
);

declare_rule!(
    AUDIT_SSH_ROOT_BROAD,
    "TP1103",
    "audit-ssh-root-broad",
    Suspicious,
    Warning,
    "SSH as `root` from a broad source",
    what = "Reports SSH rules that allow the `root` user from `autogroup:member`, `autogroup:danger-all` or `*`.",
    why = "Every member of the tailnet gets full control of the destination machines.",
    example = "{ \"tagOwners\": { \"tag:prod\": [] }, \"ssh\": [{ \"action\": \"accept\", \"src\": [\"autogroup:member\"], \"dst\": [\"tag:prod\"], \"users\": [\"root\"] }] }",
    fix = "Allow root to a small group (`group:sre`) with `check`, and `autogroup:nonroot` for everyone else.",
);

declare_rule!(
    AUDIT_NO_TESTS,
    "TP1104",
    "audit-no-tests",
    Suspicious,
    Warning,
    "the policy has rules but no `tests` or `sshTests`",
    what = "Reports a policy with access rules and neither `tests` nor `sshTests`.",
    why = "Nothing stops a later edit from opening access that must stay closed; tests are checked on every change.",
    example = "{ \"acls\": [{ \"action\": \"accept\", \"src\": [\"group:dev\"], \"dst\": [\"tag:dev:*\"] }] }",
    fix = "Add `\"tests\"` asserting the access that must and must not exist, e.g. `{ \"src\": \"alice@example.com\", \"accept\": [\"tag:dev:22\"], \"deny\": [\"tag:prod:22\"] }`.",
);

declare_rule!(
    AUDIT_MEMBER_SOURCE,
    "TP1105",
    "audit-member-source",
    Suspicious,
    Warning,
    "`autogroup:member` as a source of access to servers",
    what = "Reports `autogroup:member` as a source of an ACL or grant whose destinations are not people's own devices.",
    why = "`autogroup:member` grows with every user who joins or is invited to the tailnet, so access reviewed for today's team widens silently.",
    example = "{ \"tagOwners\": { \"tag:db\": [] }, \"acls\": [{ \"action\": \"accept\", \"src\": [\"autogroup:member\"], \"dst\": [\"tag:db:5432\"] }] }",
    fix = "Name a group that is reviewed (`group:backend`).",
);

declare_rule!(
    AUDIT_BROAD_AUTO_APPROVER,
    "TP1106",
    "audit-broad-auto-approver",
    Suspicious,
    Warning,
    "an `autoApprovers` entry that anyone, or any route, satisfies",
    what = "Reports route and exit-node approvers `*` or `autogroup:member`, and auto-approved routes of length /0.",
    why = "Any member's device can then advertise a route (or become an exit node) and have it approved without review, attracting other devices' traffic.",
    example = "{ \"autoApprovers\": { \"routes\": { \"0.0.0.0/0\": [\"autogroup:member\"] } } }",
    fix = "Approve specific prefixes for a tag owned by administrators: `\"routes\": { \"10.1.0.0/16\": [\"tag:router\"] }`.",
);

declare_rule!(
    AUDIT_MEMBER_OWNS_TAG,
    "TP1107",
    "audit-member-owns-tag",
    Suspicious,
    Warning,
    "every member may apply a tag that grants access",
    what = "Reports tags owned by `autogroup:member` that are the source of an ACL, grant or SSH rule.",
    why = "Any member can tag a device and so take on the tag's access to servers.",
    example = "{ \"tagOwners\": { \"tag:ci\": [\"autogroup:member\"], \"tag:prod\": [] }, \"acls\": [{ \"action\": \"accept\", \"src\": [\"tag:ci\"], \"dst\": [\"tag:prod:22\"] }] }",
    fix = "Let a reviewed group own the tag: `\"tag:ci\": [\"group:platform\"]`.",
);

declare_rule!(
    AUDIT_DANGER_ALL,
    "TP1108",
    "audit-danger-all",
    Suspicious,
    Warning,
    "`autogroup:danger-all` is used",
    what = "Reports every use of `autogroup:danger-all`.",
    why = "It matches every source, including devices shared in from other tailnets and any address at all; it is named to make reviewers stop.",
    example = "{ \"grants\": [{ \"src\": [\"autogroup:danger-all\"], \"dst\": [\"tag:web\"], \"ip\": [\"443\"] }] }",
    fix = "Use `*` (the tailnet's own devices and routes) or name the sources.",
);

declare_rule!(
    AUDIT_EXIT_NODE_OPEN,
    "TP1109",
    "audit-exit-node-open",
    Suspicious,
    Warning,
    "exit nodes are open to everyone",
    what = "Reports ACLs and grants that give `*` or `autogroup:member` access to `autogroup:internet`.",
    why = "Every device can send its internet traffic through the tailnet's exit nodes, from their addresses: often not what the owners of those networks agreed to.",
    example = "{ \"acls\": [{ \"action\": \"accept\", \"src\": [\"*\"], \"dst\": [\"autogroup:internet:*\"] }] }",
    fix = "Name who may use exit nodes: `\"src\": [\"group:travellers\"]`.",
);

/// Every audit rule, for the registry.
pub static RULES: &[&crate::rules::Rule] = &[
    &AUDIT_DEFAULT_ALLOW_ALL,
    &AUDIT_SSH_ACCEPT_USER_DEVICES,
    &AUDIT_SSH_ROOT_BROAD,
    &AUDIT_NO_TESTS,
    &AUDIT_MEMBER_SOURCE,
    &AUDIT_BROAD_AUTO_APPROVER,
    &AUDIT_MEMBER_OWNS_TAG,
    &AUDIT_DANGER_ALL,
    &AUDIT_EXIT_NODE_OPEN,
];
