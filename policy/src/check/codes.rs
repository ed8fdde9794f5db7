//! Reference, selector and rule-semantics rules (`TP02xx`, `TP03xx`), and the mapping
//! from selector parse errors to diagnostics.

use crate::declare_rule;
use crate::diagnostic::Diagnostic;
use crate::model::AliasError;
use crate::span::Span;

declare_rule!(
    UNDEFINED_TAG,
    "TP0201",
    "undefined-tag",
    Correctness,
    Error,
    "a tag is used but not defined in `tagOwners`",
    what = "Reports `tag:` selectors in rules, SSH rules, approvers, nodeAttrs, `via` and tag owners that have no entry in `tagOwners`.",
    why = "Tailscale rejects the policy (`tag not found`). Defining a tag in `tagOwners` is what makes it exist.",
    example = "{ \"acls\": [{ \"action\": \"accept\", \"src\": [\"tag:ci\"], \"dst\": [\"tag:prod:22\"] }] }",
    fix = "Add `\"tagOwners\": { \"tag:ci\": [\"group:devops\"], \"tag:prod\": [\"group:devops\"] }`, or fix the spelling.",
);

declare_rule!(
    UNDEFINED_GROUP,
    "TP0202",
    "undefined-group",
    Correctness,
    Error,
    "a group is used but not defined in `groups`",
    what = "Reports `group:` selectors that have no entry in `groups`.",
    why = "Tailscale rejects the policy; a rule meant for that group would otherwise silently match nobody.",
    example =
        "{ \"acls\": [{ \"action\": \"accept\", \"src\": [\"group:dev\"], \"dst\": [\"*:*\"] }] }",
    fix = "Define it: `\"groups\": { \"group:dev\": [\"alice@example.com\"] }`.",
);

declare_rule!(
    UNDEFINED_HOST,
    "TP0203",
    "undefined-host",
    Correctness,
    Error,
    "a name is used as a host alias but not defined in `hosts`",
    what = "Reports bare names (no `@`, no prefix, not an address) that are not keys of `hosts`.",
    why = "Tailscale rejects the policy. Bare names are often user names missing their `@domain`.",
    example =
        "{ \"acls\": [{ \"action\": \"accept\", \"src\": [\"*\"], \"dst\": [\"db:5432\"] }] }",
    fix = "Add `\"hosts\": { \"db\": \"10.0.0.5\" }`, or write the user as `name@example.com`.",
);

declare_rule!(
    UNDEFINED_IPSET,
    "TP0204",
    "undefined-ipset",
    Correctness,
    Error,
    "an ipset is used but not defined in `ipsets`",
    what = "Reports `ipset:` selectors with no entry in `ipsets`.",
    why = "Tailscale rejects the policy.",
    example = "{ \"acls\": [{ \"action\": \"accept\", \"src\": [\"ipset:office\"], \"dst\": [\"*:*\"] }] }",
    fix = "Define `\"ipsets\": { \"ipset:office\": [\"192.0.2.0/24\"] }`.",
);

declare_rule!(
    UNDEFINED_POSTURE,
    "TP0205",
    "undefined-posture",
    Correctness,
    Error,
    "a posture is used but not defined in `postures`",
    what = "Reports `srcPosture` and `defaultSrcPosture` entries that name no posture.",
    why = "Tailscale rejects the policy.",
    example = "{ \"grants\": [{ \"src\": [\"*\"], \"dst\": [\"*\"], \"ip\": [\"*\"], \"srcPosture\": [\"posture:latest\"] }] }",
    fix = "Define `\"postures\": { \"posture:latest\": [\"node:tsVersion >= '1.60'\"] }`.",
);

declare_rule!(
    INVALID_SELECTOR,
    "TP0206",
    "invalid-selector",
    Correctness,
    Error,
    "a selector is not any valid form",
    what = "Reports selectors that are neither `*`, a user, a `group:`/`tag:`/`autogroup:`/`ipset:`/`svc:` name, an IP or CIDR, nor a valid host alias name.",
    why = "Tailscale rejects the policy (`invalid address`).",
    example = "{ \"acls\": [{ \"action\": \"accept\", \"src\": [\"10.0\"], \"dst\": [\"*:*\"] }] }",
    fix = "Write a full address (`10.0.0.0/16`) or define a host alias.",
);

declare_rule!(
    INVALID_PORT,
    "TP0207",
    "invalid-port",
    Correctness,
    Error,
    "a port spec is malformed",
    what = "Checks destination ports (`alias:ports`) and grant `ip` elements: `*`, `N`, `N-M` or a comma list, with 1 <= N <= M <= 65535; the destination must contain a colon.",
    why = "Tailscale rejects the policy. Note the split at the *last* colon: `tag:server` without a port reads `server` as the port.",
    example = "{ \"acls\": [{ \"action\": \"accept\", \"src\": [\"*\"], \"dst\": [\"tag:server:ssh\"] }] }",
    fix = "Use numbers: `tag:server:22`.",
);

declare_rule!(
    INVALID_PROTOCOL,
    "TP0208",
    "invalid-protocol",
    Correctness,
    Error,
    "an IP protocol name or number is not known",
    what = "Checks `proto` of ACLs and the protocol prefix of grant `ip` elements against Tailscale's protocol names and numbers 1-255.",
    why = "Tailscale rejects the policy. `*` is not a protocol: leave `proto` out to allow the default set.",
    example = "{ \"acls\": [{ \"action\": \"accept\", \"src\": [\"*\"], \"dst\": [\"*:*\"], \"proto\": \"*\" }] }",
    fix = "Remove `proto`, or name a protocol (`tcp`, `udp`, `icmp`, `47`).",
);

declare_rule!(
    PORTS_ON_PORTLESS_PROTOCOL,
    "TP0209",
    "ports-on-portless-protocol",
    Correctness,
    Error,
    "specific ports with a protocol that has no ports",
    what = "Reports specific ports combined with a protocol other than TCP, UDP or SCTP.",
    why = "Only TCP, UDP and SCTP have ports; Tailscale rejects the policy.",
    example = "{ \"acls\": [{ \"action\": \"accept\", \"src\": [\"*\"], \"dst\": [\"*:22\"], \"proto\": \"icmp\" }] }",
    fix = "Use `*` as the port: `*:*`.",
);

declare_rule!(
    UNKNOWN_AUTOGROUP,
    "TP0210",
    "unknown-autogroup",
    Correctness,
    Error,
    "an `autogroup:` name that does not exist",
    what = "Reports `autogroup:` selectors other than Tailscale's autogroups.",
    why = "Tailscale rejects the policy.",
    example = "{ \"acls\": [{ \"action\": \"accept\", \"src\": [\"autogroup:everyone\"], \"dst\": [\"*:*\"] }] }",
    fix = "Use one of the listed autogroups, e.g. `autogroup:member`.",
);

declare_rule!(
    INVALID_TAG_NAME,
    "TP0211",
    "invalid-tag-name",
    Correctness,
    Error,
    "a tag name is malformed",
    what = "Checks that tags are `tag:` followed by an ASCII letter, then letters, digits and `-`.",
    why = "Tailscale rejects the policy (`tag names must start with a letter, after 'tag:'`).",
    example = "{ \"tagOwners\": { \"tag:1server\": [\"autogroup:admin\"] } }",
    fix = "Start the name with a letter: `tag:server1`.",
);

declare_rule!(
    INVALID_GROUP_NAME,
    "TP0212",
    "invalid-group-name",
    Correctness,
    Error,
    "a `groups` key does not start with `group:`",
    what = "Checks the keys of `groups`.",
    why = "Tailscale rejects the policy.",
    example = "{ \"groups\": { \"dev\": [\"alice@example.com\"] } }",
    fix = "Write `\"group:dev\"`.",
);

declare_rule!(
    INVALID_GROUP_MEMBER,
    "TP0213",
    "invalid-group-member",
    Correctness,
    Error,
    "a group member is not a user",
    what = "Checks that group members are user logins; groups cannot contain groups, tags, addresses or autogroups.",
    why = "Tailscale rejects the policy (`group members cannot be recursive`).",
    example =
        "{ \"groups\": { \"group:a\": [\"group:b\"], \"group:b\": [\"alice@example.com\"] } }",
    fix = "List the users of `group:b` in `group:a` directly.",
);

declare_rule!(
    INVALID_HOST,
    "TP0214",
    "invalid-host",
    Correctness,
    Error,
    "a `hosts` entry has a bad name or address",
    what = "Checks that host names are plain names and values are one IP address or CIDR prefix.",
    why = "Tailscale rejects the policy (`hostname contains invalid IP address`).",
    example = "{ \"hosts\": { \"db\": \"10.0\" } }",
    fix = "Give a full address: `\"db\": \"10.0.0.5\"`.",
);

declare_rule!(
    INVALID_BRACKETS,
    "TP0215",
    "invalid-brackets",
    Correctness,
    Error,
    "square brackets around something that is not an IPv6 address",
    what = "Reports `[...]` around IPv4 addresses, names or prefixes.",
    why = "Brackets are only for separating an IPv6 address from its port; Tailscale rejects other uses.",
    example = "{ \"acls\": [{ \"action\": \"accept\", \"src\": [\"*\"], \"dst\": [\"[10.0.0.1]:22\"] }] }",
    fix = "Write `10.0.0.1:22`; use brackets only for IPv6: `[fd7a:115c:a1e0::1]:22`.",
);

declare_rule!(
    INVALID_CAPABILITY_NAME,
    "TP0216",
    "invalid-capability-name",
    Correctness,
    Error,
    "an app capability name is malformed or reserved",
    what = "Checks grant `app` keys: they must look like `domain/path`, and `tailscale.com` names are limited to the grantable ones.",
    why = "Tailscale rejects the policy.",
    example =
        "{ \"grants\": [{ \"src\": [\"*\"], \"dst\": [\"*\"], \"app\": { \"mycap\": [{}] } }] }",
    fix = "Use `\"example.com/cap/mycap\"`.",
);

declare_rule!(
    INVALID_IPSET,
    "TP0217",
    "invalid-ipset",
    Correctness,
    Error,
    "an `ipsets` entry is malformed",
    what = "Checks ipset names and operations (`add`/`remove` of IPs, CIDRs, ranges, `host:`, `ipset:` and `autogroup:internet`), and cycles between ipsets.",
    why = "Tailscale rejects the policy.",
    example = "{ \"ipsets\": { \"ipset:a\": [\"add group:dev\"] } }",
    fix = "Use addresses only: `\"add 192.0.2.0/24\"`.",
);

declare_rule!(
    INVALID_POSTURE,
    "TP0218",
    "invalid-posture",
    Correctness,
    Error,
    "a `postures` entry is malformed",
    what = "Checks posture names (`posture:`) and each condition: a namespaced attribute (`node:os`), an operator (`==`, `!=`, `<`, `<=`, `>`, `>=`, `IN`, `NOT IN`, `IS SET`, `NOT SET`), and a value of the right form (single-quoted string, number, `true`/`false`, or a `[...]` list for `IN`); ordering only numbers and the version attributes `node:osVersion`/`node:tsVersion`, and comparing built-in attributes with values of their documented type. The diagnostic points at the offending part of the condition.",
    why = "Tailscale rejects a malformed posture. A comparison that suits neither the operator nor the attribute's type could never hold, so the posture would shut out every device.",
    example = "{ \"postures\": { \"posture:a\": [\"node:os\"] } }",
    fix = "Write a full condition: `\"node:os == 'macos'\"`.",
);

declare_rule!(
    INVALID_AUTO_APPROVER,
    "TP0219",
    "invalid-auto-approver",
    Correctness,
    Error,
    "an `autoApprovers` entry is malformed",
    what = "Checks that route keys are CIDR prefixes and approvers are users, groups, tags or role autogroups.",
    why = "Tailscale rejects the policy.",
    example = "{ \"autoApprovers\": { \"routes\": { \"10.0.0.0/33\": [\"tag:router\"] } } }",
    fix = "Give a valid prefix.",
);

declare_rule!(
    INVALID_IP_POOL,
    "TP0220",
    "invalid-ip-pool",
    Correctness,
    Error,
    "a nodeAttrs `ipPool` is outside 100.64.0.0/10 or in a reserved range",
    what = "Checks `ipPool` prefixes.",
    why = "Tailscale rejects the policy (`network within reserved range`).",
    example = "{ \"nodeAttrs\": [{ \"target\": [\"*\"], \"ipPool\": [\"100.100.100.0/24\"] }] }",
    fix = "Pick a prefix inside 100.64.0.0/10 outside Tailscale's reserved ranges.",
);

declare_rule!(
    INVALID_CHECK_PERIOD,
    "TP0221",
    "invalid-check-period",
    Correctness,
    Error,
    "an SSH `checkPeriod` is not a duration between 0 and 168h",
    what =
        "Checks `checkPeriod`: a Go duration such as `12h` or `1h30m`, or `always`, at most 168h.",
    why = "Tailscale rejects the policy.",
    example = "{ \"ssh\": [{ \"action\": \"check\", \"src\": [\"autogroup:member\"], \"dst\": [\"autogroup:self\"], \"users\": [\"autogroup:nonroot\"], \"checkPeriod\": \"200h\" }] }",
    fix = "Use at most `\"168h\"`.",
);

declare_rule!(
    INVALID_NODE_ATTR_TARGET,
    "TP0222",
    "invalid-node-attr-target",
    Correctness,
    Error,
    "a nodeAttrs target Tailscale does not support",
    what = "Reports `autogroup:self` and other unsupported targets in `nodeAttrs`.",
    why = "Tailscale fails to save such a policy.",
    example = "{ \"nodeAttrs\": [{ \"target\": [\"autogroup:self\"], \"attr\": [\"funnel\"] }] }",
    fix = "Target users, groups, tags or `autogroup:member`.",
);

declare_rule!(
    ACL_ACTION_NOT_ACCEPT,
    "TP0301",
    "acl-action-not-accept",
    Correctness,
    Error,
    "an ACL `action` other than `accept`",
    what = "Reports ACL entries whose action is not `accept`.",
    why = "Tailscale has no deny rules: access is the union of all accept rules, and the policy is rejected.",
    example =
        "{ \"acls\": [{ \"action\": \"deny\", \"src\": [\"*\"], \"dst\": [\"tag:prod:*\"] }] }",
    fix = "Remove the rule and narrow the accept rules that grant the access instead.",
);

declare_rule!(
    AUTOGROUP_SELF_AS_SOURCE,
    "TP0302",
    "autogroup-self-as-source",
    Correctness,
    Error,
    "`autogroup:self` used as a source",
    what = "Reports `autogroup:self` in `src` of acls, grants and SSH rules.",
    why = "`autogroup:self` is relative to the source, so it only makes sense as a destination. Tailscale rejects it.",
    example = "{ \"acls\": [{ \"action\": \"accept\", \"src\": [\"autogroup:self\"], \"dst\": [\"autogroup:self:*\"] }] }",
    fix = "Use `autogroup:member` as the source.",
);

declare_rule!(
    AUTOGROUP_SELF_INVALID_SOURCE,
    "TP0303",
    "autogroup-self-invalid-source",
    Correctness,
    Error,
    "`autogroup:self` destination with tag or address sources",
    what = "Reports rules whose destination includes `autogroup:self` while the sources include tags, addresses, hosts or `autogroup:tagged` (and, in grants and SSH, `*`).",
    why = "Tagged devices and addresses have no owning user, so \"their own devices\" is undefined. Tailscale rejects the policy.",
    example = "{ \"acls\": [{ \"action\": \"accept\", \"src\": [\"tag:ci\"], \"dst\": [\"autogroup:self:*\"] }] }",
    fix = "Split the rule: users and groups to `autogroup:self`, tags to explicit destinations.",
);

declare_rule!(
    AUTOGROUP_INTERNET_MISPLACED,
    "TP0304",
    "autogroup-internet-misplaced",
    Correctness,
    Error,
    "`autogroup:internet` outside network destinations",
    what = "Reports `autogroup:internet` in sources, SSH rules and other places where it has no meaning.",
    why = "It stands for internet traffic leaving through exit nodes, which only exists as a destination.",
    example = "{ \"acls\": [{ \"action\": \"accept\", \"src\": [\"autogroup:internet\"], \"dst\": [\"*:*\"] }] }",
    fix = "Use it only in `dst`.",
);

declare_rule!(
    DANGER_ALL_AS_DESTINATION,
    "TP0305",
    "danger-all-as-destination",
    Correctness,
    Error,
    "`autogroup:danger-all` used as a destination",
    what = "Reports `autogroup:danger-all` in `dst`.",
    why = "Tailscale rejects it (`cannot use autogroup:danger-all as a dst`).",
    example = "{ \"grants\": [{ \"src\": [\"*\"], \"dst\": [\"autogroup:danger-all\"], \"ip\": [\"*\"] }] }",
    fix = "Use `\"*\"` as the destination.",
);

declare_rule!(
    ALL_ADDRESSES_GRANT_DESTINATION,
    "TP0306",
    "all-addresses-grant-destination",
    Correctness,
    Error,
    "`0.0.0.0/0` or `::/0` as a grant destination",
    what = "Reports the all-addresses prefixes in grant `dst`.",
    why =
        "Tailscale rejects them and asks for `*` or `autogroup:internet`, which say what is meant.",
    example = "{ \"grants\": [{ \"src\": [\"*\"], \"dst\": [\"0.0.0.0/0\"], \"ip\": [\"*\"] }] }",
    fix =
        "Use `\"*\"` (every tailnet destination) or `\"autogroup:internet\"` (through exit nodes).",
);

declare_rule!(
    GRANT_WITHOUT_CAPABILITIES,
    "TP0307",
    "grant-without-capabilities",
    Correctness,
    Error,
    "a grant with neither `ip` nor `app`",
    what = "Reports grants whose `ip` and `app` are both missing or empty.",
    why = "Such a grant grants nothing; Tailscale rejects it (`ip and app can not both be empty`).",
    example = "{ \"grants\": [{ \"src\": [\"*\"], \"dst\": [\"tag:web\"] }] }",
    fix = "Add `\"ip\": [\"tcp:443\"]`.",
);

declare_rule!(
    APP_GRANT_TO_INTERNET,
    "TP0308",
    "app-grant-to-internet",
    Correctness,
    Error,
    "an app grant to `autogroup:internet`",
    what = "Reports grants with `app` capabilities whose destination is `autogroup:internet`.",
    why = "Application capabilities are granted to tailnet devices; Tailscale rejects this.",
    example = "{ \"grants\": [{ \"src\": [\"*\"], \"dst\": [\"autogroup:internet\"], \"app\": { \"example.com/cap/x\": [{}] } }] }",
    fix = "Grant the capability to tailnet destinations.",
);

declare_rule!(
    VIA_NOT_A_TAG,
    "TP0309",
    "via-not-a-tag",
    Correctness,
    Error,
    "a grant `via` entry that is not a tag",
    what = "Reports `via` elements that are not `tag:` selectors.",
    why = "Route filtering selects routers by tag only (`via can only be a tag`).",
    example = "{ \"grants\": [{ \"src\": [\"*\"], \"dst\": [\"10.0.0.0/8\"], \"ip\": [\"*\"], \"via\": [\"router1\"] }] }",
    fix = "Tag the router and use the tag.",
);

declare_rule!(
    INVALID_SSH_ACTION,
    "TP0310",
    "invalid-ssh-action",
    Correctness,
    Error,
    "an SSH rule without a valid `action`",
    what = "Checks that SSH `action` is exactly `accept` or `check` (lower case).",
    why = "Tailscale rejects the policy.",
    example = "{ \"ssh\": [{ \"action\": \"Accept\", \"src\": [\"autogroup:member\"], \"dst\": [\"autogroup:self\"], \"users\": [\"autogroup:nonroot\"] }] }",
    fix = "Write `\"accept\"`.",
);

declare_rule!(
    SSH_USERS_MISSING,
    "TP0311",
    "ssh-users-missing",
    Correctness,
    Error,
    "an SSH rule without `users`",
    what = "Reports SSH rules whose `users` is missing, null or empty.",
    why = "Tailscale rejects the policy (`users must be specified`).",
    example = "{ \"ssh\": [{ \"action\": \"accept\", \"src\": [\"autogroup:member\"], \"dst\": [\"autogroup:self\"] }] }",
    fix = "Add `\"users\": [\"autogroup:nonroot\"]`.",
);

declare_rule!(
    INVALID_SSH_USER,
    "TP0312",
    "invalid-ssh-user",
    Correctness,
    Error,
    "an SSH `users` entry that is empty or `*`",
    what = "Reports `\"\"` and `\"*\"` in SSH `users`.",
    why = "Tailscale rejects them; `autogroup:nonroot` is the way to say \"any non-root user\".",
    example = "{ \"ssh\": [{ \"action\": \"accept\", \"src\": [\"autogroup:member\"], \"dst\": [\"autogroup:self\"], \"users\": [\"*\"] }] }",
    fix = "Use `\"autogroup:nonroot\"`.",
);

declare_rule!(
    INVALID_SSH_DESTINATION,
    "TP0313",
    "invalid-ssh-destination",
    Correctness,
    Error,
    "an SSH destination that is not a tag, user or supported autogroup",
    what = "Reports hosts, IPs, CIDRs and `*` in SSH `dst`.",
    why = "SSH destinations are devices by identity; Tailscale rejects addresses and `*`.",
    example = "{ \"ssh\": [{ \"action\": \"accept\", \"src\": [\"group:dev\"], \"dst\": [\"*\"], \"users\": [\"root\"] }] }",
    fix = "Use tags (`tag:server`) or `autogroup:self`.",
);

declare_rule!(
    INVALID_SSH_SOURCE,
    "TP0314",
    "invalid-ssh-source",
    Correctness,
    Error,
    "an SSH source that is not a user, group, tag or supported autogroup",
    what = "Reports `*`, addresses and hosts in SSH `src`.",
    why = "SSH sources are identities; Tailscale and headscale reject `*` and addresses.",
    example = "{ \"ssh\": [{ \"action\": \"accept\", \"src\": [\"*\"], \"dst\": [\"tag:server\"], \"users\": [\"root\"] }] }",
    fix = "Use `autogroup:member` or groups.",
);

declare_rule!(
    SSH_TAG_TO_USER_DEVICE,
    "TP0315",
    "ssh-tag-to-user-device",
    Correctness,
    Error,
    "tagged sources in an SSH rule to user-owned devices",
    what = "Reports SSH rules whose sources include tags or `autogroup:tagged` and whose destinations include users or `autogroup:member`.",
    why = "Tags cannot SSH into devices owned by people; Tailscale rejects such rules.",
    example = "{ \"ssh\": [{ \"action\": \"accept\", \"src\": [\"tag:ci\"], \"dst\": [\"alice@example.com\"], \"users\": [\"alice\"] }] }",
    fix = "Let the tagged device reach tagged destinations only.",
);

declare_rule!(
    SSH_USER_DESTINATION_OTHER_SOURCE,
    "TP0316",
    "ssh-user-destination-other-source",
    Correctness,
    Error,
    "an SSH rule to a user's devices from other sources",
    what = "Reports SSH rules with a user destination whose sources are not exactly that user.",
    why = "Only the owner may be granted SSH to devices identified by user; use `autogroup:self` for \"own devices\".",
    example = "{ \"ssh\": [{ \"action\": \"accept\", \"src\": [\"group:dev\"], \"dst\": [\"alice@example.com\"], \"users\": [\"alice\"] }] }",
    fix = "Use `\"dst\": [\"autogroup:self\"]`, or tag the device.",
);

declare_rule!(
    SSH_ACCEPT_ENV_EMPTY,
    "TP0317",
    "ssh-accept-env-empty",
    Correctness,
    Error,
    "an empty `acceptEnv` entry",
    what = "Reports `\"\"` in SSH `acceptEnv`.",
    why = "Tailscale rejects it (`acceptEnv values cannot be empty`).",
    example = "{ \"ssh\": [{ \"action\": \"accept\", \"src\": [\"autogroup:member\"], \"dst\": [\"autogroup:self\"], \"users\": [\"autogroup:nonroot\"], \"acceptEnv\": [\"\"] }] }",
    fix = "Remove it or name a variable (`GIT_*`).",
);

declare_rule!(
    DOMAIN_NOT_IN_TAILNET,
    "TP0318",
    "domain-not-in-tailnet",
    Correctness,
    Error,
    "`localpart:*@domain` or `user:*@domain` with a domain the tailnet does not own",
    what = "With an inventory, checks that the domains of `localpart:*@domain` and `user:*@domain` are the tailnet's own domain.",
    why = "Tailscale rejects domains not associated with the tailnet.",
    example = "{ \"ssh\": [{ \"action\": \"accept\", \"src\": [\"autogroup:member\"], \"dst\": [\"autogroup:self\"], \"users\": [\"localpart:*@other.org\"] }] }",
    fix = "Use the tailnet's domain.",
);

declare_rule!(
    UNSUPPORTED_IN_DIALECT,
    "TP0320",
    "unsupported-in-dialect",
    Correctness,
    Error,
    "a construct the chosen control server (`--dialect`) does not support",
    what = "In headscale mode, reports what headscale 0.29 rejects although Tailscale accepts it: `user:*@domain` selectors, `svc:` services and `autoApprovers.services`, the `funnel` node attribute and `ipPool`. (Unsupported top-level sections and fields are reported as unknown fields, `TP0101`, with headscale's wording.)",
    why = "headscale refuses to load the policy, so every node keeps the last policy it loaded (or none at boot).",
    example = "{ \"acls\": [{ \"action\": \"accept\", \"src\": [\"user:*@example.com\"], \"dst\": [\"*:*\"] }] }",
    fix = "List the users (`alice@example.com`) or use a group; drop Tailscale-only features, or check with `--dialect tailscale` if the policy is for Tailscale.",
);

declare_rule!(
    SELECTOR_NOT_ALLOWED_HERE,
    "TP0319",
    "selector-not-allowed-here",
    Correctness,
    Error,
    "a selector of a kind not allowed in this field",
    what = "Reports selectors in places that do not accept their kind: ranges outside ipsets, `autogroup:nonroot` outside SSH users, services as sources, addresses as approvers or tag owners, and so on.",
    why = "Tailscale rejects the policy.",
    example = "{ \"tagOwners\": { \"tag:web\": [\"10.0.0.1\"] } }",
    fix = "Use a selector kind that the field accepts (see the message).",
);

declare_rule!(
    TEST_FAILED,
    "TP0401",
    "test-failed",
    Correctness,
    Error,
    "an assertion of the policy's `tests` does not hold",
    what = "Evaluates each `tests` entry as Tailscale does when the policy is saved: every `accept` destination must be reachable from `src` on that port and protocol, every `deny` destination must not be.",
    why = "Tailscale rejects the whole policy (`test(s) failed`), so the change cannot be applied.",
    example = "{ \"acls\": [], \"tests\": [{ \"src\": \"alice@example.com\", \"accept\": [\"tag:prod:22\"] }] }",
    fix = "Fix the rules, or the test if the rules are right. `tailpolicy reach --from SRC --to DST` shows which rules apply.",
);

declare_rule!(
    MALFORMED_TEST,
    "TP0402",
    "malformed-test",
    Correctness,
    Error,
    "a `tests` entry Tailscale cannot evaluate",
    what = "Checks the shape of `tests` entries: a non-empty `src`, at least one of `accept`/`deny`, destinations that are a single host (user, group, tag, host alias or IP, not a CIDR or `autogroup:internet`) with exactly one numeric port, and a protocol of `tcp`, `udp` or `sctp`.",
    why = "Tailscale fails such an entry (`test(s) failed`) and rejects the policy, even where the rules grant exactly that traffic.",
    example =
        "{ \"tests\": [{ \"src\": \"alice@example.com\", \"accept\": [\"tag:prod:22-23\"] }] }",
    fix = "Test one port per destination: `\"tag:prod:22\"`, `\"tag:prod:23\"`.",
);

declare_rule!(
    SSH_TEST_FAILED,
    "TP0403",
    "ssh-test-failed",
    Correctness,
    Error,
    "an assertion of the policy's `sshTests` does not hold",
    what = "Evaluates each `sshTests` entry against the compiled SSH policy: users in `accept` must be allowed (by an accept or check rule), users in `check` must need a check rule, users in `deny` must not be allowed, for every destination.",
    why = "Tailscale rejects the whole policy (`test(s) failed`).",
    example = "{ \"ssh\": [], \"sshTests\": [{ \"src\": \"alice@example.com\", \"dst\": [\"tag:prod\"], \"accept\": [\"root\"] }] }",
    fix = "Fix the SSH rules or the test. Network access to port 22 is separate and not checked by `sshTests`.",
);

declare_rule!(
    MALFORMED_SSH_TEST,
    "TP0404",
    "malformed-ssh-test",
    Correctness,
    Error,
    "an `sshTests` entry Tailscale cannot evaluate",
    what = "Checks the shape of `sshTests` entries: a non-empty `src`, a non-empty `dst` of tags, users, groups, single hosts, IPv4 addresses, `autogroup:self` or `autogroup:member` (no ports, CIDRs or `autogroup:internet`), and at least one of `accept`, `check`, `deny`.",
    why = "Tailscale rejects the policy.",
    example = "{ \"sshTests\": [{ \"src\": \"alice@example.com\", \"dst\": [\"tag:server:22\"], \"accept\": [\"root\"] }] }",
    fix = "Name destinations without ports: `\"tag:server\"`.",
);

/// The diagnostic for a selector that could not be parsed, in `context` (e.g. `src`).
pub fn alias_error(err: &AliasError, span: Span, context: &str) -> Diagnostic {
    let code = match err {
        AliasError::UnknownAutogroup(_) => UNKNOWN_AUTOGROUP.as_code(),
        AliasError::BadTagName(_) => INVALID_TAG_NAME.as_code(),
        AliasError::BadBrackets(_) => INVALID_BRACKETS.as_code(),
        AliasError::Empty | AliasError::Invalid(_) => INVALID_SELECTOR.as_code(),
        AliasError::RangeOutsideIpSet(_) => SELECTOR_NOT_ALLOWED_HERE.as_code(),
    };
    let d = Diagnostic::new(code, span, format!("{context}: {err}"));
    match err {
        AliasError::Invalid(_) => d.with_help(
            "a selector is `*`, a user (`name@domain`), `group:`, `tag:`, `autogroup:`, `ipset:`, an IP, a CIDR or a host alias name",
        ),
        AliasError::BadBrackets(_) => d.with_help("write IPv4 addresses and names without brackets"),
        AliasError::RangeOutsideIpSet(_) => d.with_help("define an ipset with the range and use `ipset:name`, or write a CIDR prefix"),
        AliasError::BadTagName(_) => d.with_help("tag names are ASCII letters, digits and `-`, starting with a letter"),
        _ => d,
    }
}

/// Every rule of this module, for the registry.
pub static RULES: &[&crate::rules::Rule] = &[
    &UNDEFINED_TAG,
    &UNDEFINED_GROUP,
    &UNDEFINED_HOST,
    &UNDEFINED_IPSET,
    &UNDEFINED_POSTURE,
    &INVALID_SELECTOR,
    &INVALID_PORT,
    &INVALID_PROTOCOL,
    &PORTS_ON_PORTLESS_PROTOCOL,
    &UNKNOWN_AUTOGROUP,
    &INVALID_TAG_NAME,
    &INVALID_GROUP_NAME,
    &INVALID_GROUP_MEMBER,
    &INVALID_HOST,
    &INVALID_BRACKETS,
    &INVALID_CAPABILITY_NAME,
    &INVALID_IPSET,
    &INVALID_POSTURE,
    &INVALID_AUTO_APPROVER,
    &INVALID_IP_POOL,
    &INVALID_CHECK_PERIOD,
    &INVALID_NODE_ATTR_TARGET,
    &ACL_ACTION_NOT_ACCEPT,
    &AUTOGROUP_SELF_AS_SOURCE,
    &AUTOGROUP_SELF_INVALID_SOURCE,
    &AUTOGROUP_INTERNET_MISPLACED,
    &DANGER_ALL_AS_DESTINATION,
    &ALL_ADDRESSES_GRANT_DESTINATION,
    &GRANT_WITHOUT_CAPABILITIES,
    &APP_GRANT_TO_INTERNET,
    &VIA_NOT_A_TAG,
    &INVALID_SSH_ACTION,
    &SSH_USERS_MISSING,
    &INVALID_SSH_USER,
    &INVALID_SSH_DESTINATION,
    &INVALID_SSH_SOURCE,
    &SSH_TAG_TO_USER_DEVICE,
    &SSH_USER_DESTINATION_OTHER_SOURCE,
    &SSH_ACCEPT_ENV_EMPTY,
    &DOMAIN_NOT_IN_TAILNET,
    &SELECTOR_NOT_ALLOWED_HERE,
    &UNSUPPORTED_IN_DIALECT,
    &TEST_FAILED,
    &MALFORMED_TEST,
    &SSH_TEST_FAILED,
    &MALFORMED_SSH_TEST,
];
