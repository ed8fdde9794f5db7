//! Multi-file policy rules (`TP07xx`): what goes wrong when fragments are merged.
//!
//! Fragments are merged by the analysis host (the `tailpolicy-workspace` crate), which
//! depends on this one; the rules are declared here so that [`crate::rules::ALL_RULES`]
//! can list them.

use crate::declare_rule;

declare_rule!(
    DUPLICATE_DEFINITION,
    "TP0701",
    "fragment-duplicate-definition",
    Correctness,
    Error,
    "the same name is defined in two fragments of a multi-file policy",
    what = "Reports a group, tag owner, host, ipset, posture or route approver defined in more than one fragment listed in `[policy] files`. The diagnostic points at the later definition and names the earlier one.",
    why = "Merging two definitions of one name silently would make one fragment's meaning depend on the other's; the merged policy Tailscale receives may hold only one.",
    example = "// base.hujson\n{ \"groups\": { \"group:eng\": [\"alice@example.com\"] } }\n// teams/web.hujson\n{ \"groups\": { \"group:eng\": [\"bob@example.com\"] } }",
    fix = "Define the name in one fragment only. For groups that several teams extend, set `merge-groups = true` under `[policy]` in `tailpolicy.toml`: members are then united.",
);

declare_rule!(
    DUPLICATE_SETTING,
    "TP0702",
    "fragment-duplicate-setting",
    Correctness,
    Error,
    "a top-level setting is defined in two fragments of a multi-file policy",
    what = "Reports a top-level setting (`defaultSrcPosture`, `disableIPv4`, `randomizeClientPort`, `OneCGNATRoute`, `derpMap`, `extraDNSRecords`, `autoApprovers.exitNode` and other single-valued keys) given in more than one fragment.",
    why = "A setting has one value; which fragment wins would depend on their order.",
    example = "// a.hujson\n{ \"randomizeClientPort\": true }\n// b.hujson\n{ \"randomizeClientPort\": false }",
    fix = "Keep the setting in one fragment (usually the base policy).",
);

declare_rule!(
    OWNERSHIP_VIOLATION,
    "TP0703",
    "fragment-ownership",
    Correctness,
    Error,
    "a delegated fragment defines or grants access to a name it does not own",
    what = "Reports, in a fragment matched by a `[[policy.owners]]` entry of `tailpolicy.toml`, a group, tag, host or ipset definition whose name does not match the entry's `names`, a section such fragments may not define (postures, autoApprovers, nodeAttrs, settings), and an `acls`, `grants` or `ssh` rule with a destination outside those names. Sources are free.",
    why = "Delegating a fragment to a team should let that team open access to its own resources only, not to everyone else's.",
    example = "# tailpolicy.toml\n[[policy.owners]]\nfiles = \"teams/data/*.hujson\"\nnames = [\"group:data-*\", \"tag:data-*\"]\n// teams/data/acl.hujson\n{ \"acls\": [{ \"action\": \"accept\", \"src\": [\"group:data-eng\"], \"dst\": [\"tag:prod-db:5432\"] }] }",
    fix = "Move the rule to a fragment that owns the destination, or widen the owner entry's `names` in `tailpolicy.toml`.",
);
