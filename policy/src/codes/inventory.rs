//! Node inventory rules (`TP05xx`).
//!
//! The inventory loader lives in the compiler crate, which depends on this one; the rules
//! are declared here so that [`crate::rules::ALL_RULES`] can list them.

use crate::declare_rule;

declare_rule!(
    INVENTORY_FORMAT,
    "TP0501",
    "inventory-format",
    Correctness,
    Error,
    "the inventory is not in a recognised format or has a field of the wrong shape",
    what = "Reports an inventory file that is neither tailpolicy's own format, nor `tailscale status --json` output, nor the Tailscale API's device list; and fields of those formats that are missing or of the wrong type.",
    why = "Without a readable node list the policy cannot be compiled against the tailnet.",
    example = "{ \"nodes\": { \"bulbasaur\": \"100.64.0.1\" } }",
    fix = "Use `{\"nodes\": [{\"name\": \"bulbasaur\", \"user\": \"odin@example.com\", \"addresses\": [\"100.64.0.1\"]}]}`.",
);

declare_rule!(
    INVENTORY_UNKNOWN_USER,
    "TP0502",
    "inventory-unknown-user",
    Correctness,
    Error,
    "a node is owned by a user the inventory does not list",
    what = "Reports a node whose `user` is not one of the inventory's `users`.",
    why = "Group membership and roles are looked up by user; a node with an unknown owner would silently match nothing.",
    example = "{ \"users\": [{\"login\": \"odin@example.com\"}], \"nodes\": [{\"name\": \"a\", \"user\": \"thor@example.org\"}] }",
    fix = "Add the user to `users`, or fix the spelling of the node's `user`.",
);

declare_rule!(
    INVENTORY_INVALID_ADDRESS,
    "TP0503",
    "inventory-invalid-address",
    Correctness,
    Error,
    "a node address or route is not a valid IP address or prefix",
    what = "Reports node `addresses` that are not IP addresses, a node with more than one address of a family, and routes that are not canonical CIDR prefixes.",
    why = "The compiler places rules on nodes by their addresses and routes.",
    example = "{ \"nodes\": [{\"name\": \"a\", \"addresses\": [\"100.64.0\"], \"advertisedRoutes\": [\"10.0.0.1/8\"]}] }",
    fix = "Write `\"addresses\": [\"100.64.0.1\", \"fd7a:115c:a1e0::1\"]` and `\"advertisedRoutes\": [\"10.0.0.0/8\"]`.",
);

declare_rule!(
    INVENTORY_DUPLICATE_NODE,
    "TP0504",
    "inventory-duplicate-node",
    Correctness,
    Error,
    "two nodes have the same name or the same address",
    what = "Reports a node whose name, IPv4 address or IPv6 address was already used by an earlier node.",
    why = "Compiled output is keyed by node name, and a packet source must identify one node.",
    example = "{ \"nodes\": [{\"name\": \"a\", \"addresses\": [\"100.64.0.1\"]}, {\"name\": \"a\", \"addresses\": [\"100.64.0.2\"]}] }",
    fix = "Give every node a unique name and unique addresses.",
);

declare_rule!(
    INVENTORY_INVALID_TAG,
    "TP0505",
    "inventory-invalid-tag",
    Correctness,
    Error,
    "a node tag is not a valid `tag:name`",
    what = "Reports node tags that do not start with `tag:` followed by a letter, then letters, digits and `-`.",
    why = "Tailscale never assigns such a tag, so the inventory is wrong.",
    example = "{ \"nodes\": [{\"name\": \"a\", \"tags\": [\"server\"]}] }",
    fix = "Write `\"tags\": [\"tag:server\"]`.",
);

declare_rule!(
    INVENTORY_UNADVERTISED_APPROVAL,
    "TP0506",
    "inventory-unadvertised-approval",
    Suspicious,
    Warning,
    "a node has an approved route it does not advertise",
    what = "Reports `approvedRoutes` entries that are not in the node's `advertisedRoutes`.",
    why =
        "Tailscale only uses approved routes the node also advertises; the approval has no effect.",
    example = "{ \"nodes\": [{\"name\": \"r\", \"advertisedRoutes\": [], \"approvedRoutes\": [\"10.0.0.0/8\"]}] }",
    fix = "Add the route to `advertisedRoutes`, or remove the approval.",
);

declare_rule!(
    INVENTORY_TAGGED_NODE_WITH_USER,
    "TP0507",
    "inventory-tagged-node-with-user",
    Suspicious,
    Warning,
    "a tagged node also names an owning user",
    what =
        "Reports nodes that have tags and a non-null `user` in tailpolicy's own inventory format.",
    why = "Tags replace user identity: the node does not match its user, that user's groups, `autogroup:member` or `autogroup:self`. The `user` is ignored.",
    example = "{ \"nodes\": [{\"name\": \"web\", \"user\": \"odin@example.com\", \"tags\": [\"tag:web\"]}] }",
    fix = "Set `\"user\": null` on tagged nodes.",
);

declare_rule!(
    INVENTORY_UNKNOWN_ROLE,
    "TP0508",
    "inventory-unknown-role",
    Correctness,
    Error,
    "a user has a role Tailscale does not know",
    what = "Reports user `role` values other than `owner`, `admin`, `it-admin`, `network-admin`, `billing-admin`, `auditor`, `member` and `shared`.",
    why = "Role autogroups (`autogroup:admin`, …) are resolved from roles.",
    example = "{ \"users\": [{\"login\": \"odin@example.com\", \"role\": \"superuser\"}] }",
    fix = "Use one of the listed roles.",
);
