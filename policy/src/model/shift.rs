//! Moving every span of a policy by a fixed offset: how the fragments of a multi-file
//! policy, each lowered on its own, are placed side by side in one offset space (each
//! fragment at its own base) so that one merged [`Policy`] can point into any of them.

use super::{
    Acl, AclTest, AutoApprovers, Grant, Group, Host, IpSet, NodeAttr, Origin, Policy, Posture,
    Settings, SshRule, SshTest, TagOwner,
};
use crate::span::{Move, Span, Spanned};

/// Something that holds spans.
trait Shift {
    /// Moves every span endpoint at or after `by.at` by `by.by` (clamped to `u32`).
    fn shift(&mut self, by: Move);
}

impl Shift for Span {
    fn shift(&mut self, by: Move) {
        self.start = by.offset(self.start);
        self.end = by.offset(self.end);
    }
}

impl<T> Shift for Spanned<T> {
    fn shift(&mut self, by: Move) {
        self.span.shift(by);
    }
}

impl<T: Shift> Shift for Vec<T> {
    fn shift(&mut self, by: Move) {
        for item in self {
            item.shift(by);
        }
    }
}

impl<T: Shift> Shift for Option<T> {
    fn shift(&mut self, by: Move) {
        if let Some(item) = self {
            item.shift(by);
        }
    }
}

impl<A: Shift, B: Shift> Shift for (A, B) {
    fn shift(&mut self, by: Move) {
        self.0.shift(by);
        self.1.shift(by);
    }
}

/// JSON values carry no spans.
impl Shift for serde_json::Value {
    fn shift(&mut self, _: Move) {}
}

impl Shift for Origin {
    fn shift(&mut self, by: Move) {
        self.span.0.shift(by);
    }
}

impl Shift for Acl {
    fn shift(&mut self, by: Move) {
        let Acl {
            origin,
            action,
            src,
            dst,
            proto,
            src_posture,
            legacy_names,
        } = self;
        origin.shift(by);
        action.shift(by);
        src.shift(by);
        dst.shift(by);
        proto.shift(by);
        src_posture.shift(by);
        legacy_names.shift(by);
    }
}

impl Shift for Grant {
    fn shift(&mut self, by: Move) {
        let Grant {
            origin,
            src,
            dst,
            ip,
            capabilities_written: _,
            app,
            via,
            src_posture,
        } = self;
        origin.shift(by);
        src.shift(by);
        dst.shift(by);
        ip.shift(by);
        app.shift(by);
        via.shift(by);
        src_posture.shift(by);
    }
}

impl Shift for SshRule {
    fn shift(&mut self, by: Move) {
        let SshRule {
            origin,
            action,
            src,
            dst,
            users,
            check_period,
            accept_env,
            src_posture,
            recorder,
            enforce_recorder: _,
        } = self;
        origin.shift(by);
        action.shift(by);
        src.shift(by);
        dst.shift(by);
        users.shift(by);
        check_period.shift(by);
        accept_env.shift(by);
        src_posture.shift(by);
        recorder.shift(by);
    }
}

impl Shift for Group {
    fn shift(&mut self, by: Move) {
        self.name.shift(by);
        self.members.shift(by);
    }
}

impl Shift for TagOwner {
    fn shift(&mut self, by: Move) {
        self.tag.shift(by);
        self.owners.shift(by);
    }
}

impl Shift for Host {
    fn shift(&mut self, by: Move) {
        self.name.shift(by);
        self.addr.shift(by);
    }
}

impl Shift for IpSet {
    fn shift(&mut self, by: Move) {
        self.name.shift(by);
        self.ops.shift(by);
    }
}

impl Shift for Posture {
    fn shift(&mut self, by: Move) {
        let Posture {
            name,
            conditions,
            parsed: _,
        } = self;
        name.shift(by);
        conditions.shift(by);
    }
}

impl Shift for AutoApprovers {
    fn shift(&mut self, by: Move) {
        let AutoApprovers {
            routes,
            exit_node,
            services,
        } = self;
        routes.shift(by);
        exit_node.shift(by);
        services.shift(by);
    }
}

impl Shift for NodeAttr {
    fn shift(&mut self, by: Move) {
        let NodeAttr {
            origin,
            target,
            attr,
            app,
            ip_pool,
        } = self;
        origin.shift(by);
        target.shift(by);
        attr.shift(by);
        app.shift(by);
        ip_pool.shift(by);
    }
}

impl Shift for AclTest {
    fn shift(&mut self, by: Move) {
        let AclTest {
            origin,
            src,
            proto,
            accept,
            deny,
            src_posture_attrs,
        } = self;
        origin.shift(by);
        src.shift(by);
        proto.shift(by);
        accept.shift(by);
        deny.shift(by);
        src_posture_attrs.shift(by);
    }
}

impl Shift for SshTest {
    fn shift(&mut self, by: Move) {
        let SshTest {
            origin,
            src,
            dst,
            accept,
            check,
            deny,
            src_posture_attrs,
        } = self;
        origin.shift(by);
        src.shift(by);
        dst.shift(by);
        accept.shift(by);
        check.shift(by);
        deny.shift(by);
        src_posture_attrs.shift(by);
    }
}

impl Shift for Settings {
    fn shift(&mut self, by: Move) {
        self.other.shift(by);
    }
}

impl Policy {
    /// Adds `by` to every span in the policy (rule origins, names, selectors, values):
    /// places a fragment lowered on its own at offset `by` of a shared offset space.
    /// Section indexes are left alone; [`Policy::renumber`] sets them after merging.
    pub fn shift_spans(&mut self, by: u32) {
        if by == 0 {
            return;
        }
        self.move_spans(Move {
            at: 0,
            by: i64::from(by),
        });
    }

    /// Moves every span offset at or after `at` by `by` bytes (negative: towards the
    /// start): what an edit of the text that replaced bytes ending at `at` does to the
    /// spans after it. Offsets before `at` stay.
    pub fn move_spans_after(&mut self, at: u32, by: i64) {
        if by != 0 {
            self.move_spans(Move { at, by });
        }
    }

    fn move_spans(&mut self, by: Move) {
        let Policy {
            acls,
            grants,
            ssh,
            groups,
            tag_owners,
            hosts,
            ipsets,
            postures,
            default_src_posture,
            auto_approvers,
            node_attrs,
            tests,
            ssh_tests,
            settings,
        } = self;
        acls.shift(by);
        grants.shift(by);
        ssh.shift(by);
        groups.shift(by);
        tag_owners.shift(by);
        hosts.shift(by);
        ipsets.shift(by);
        postures.shift(by);
        default_src_posture.shift(by);
        auto_approvers.shift(by);
        node_attrs.shift(by);
        tests.shift(by);
        ssh_tests.shift(by);
        settings.shift(by);
    }

    /// Sets every rule's [`Origin::index`] to its position in its section: after list
    /// sections of several fragments were concatenated, indexes are those of the merged
    /// policy (what `tailpolicy merge` prints and Tailscale would number).
    pub fn renumber(&mut self) {
        fn set<T>(items: &mut [T], origin: impl Fn(&mut T) -> &mut Origin) {
            for (index, item) in items.iter_mut().enumerate() {
                origin(item).index = index;
            }
        }
        set(self.acls.as_deref_mut().unwrap_or_default(), |a| {
            &mut a.origin
        });
        set(self.grants.as_deref_mut().unwrap_or_default(), |g| {
            &mut g.origin
        });
        set(self.ssh.as_deref_mut().unwrap_or_default(), |s| {
            &mut s.origin
        });
        set(&mut self.node_attrs, |n| &mut n.origin);
        set(&mut self.tests, |t| &mut t.origin);
        set(&mut self.ssh_tests, |t| &mut t.origin);
    }
}

#[cfg(test)]
mod tests {
    use crate::{CheckOptions, analyse};

    #[test]
    fn every_span_moves_by_the_offset() {
        let text = r#"{
  "groups": {"group:a": ["a@x.com"]},
  "tagOwners": {"tag:t": ["group:a"]},
  "hosts": {"h": "10.0.0.1"},
  "acls": [{"action": "accept", "src": ["group:a"], "dst": ["h:22"]}],
  "ssh": [{"action": "check", "src": ["group:a"], "dst": ["tag:t"], "users": ["root"]}],
  "tests": [{"src": "a@x.com", "accept": ["h:22"]}],
}"#;
        let Some(original) = analyse(text, &CheckOptions::default()).policy else {
            unreachable!("the example parses");
        };
        let mut moved = original.clone();
        moved.shift_spans(1000);
        // Equality ignores spans: the values are unchanged.
        assert_eq!(moved, original);
        let (Some(a), Some(b)) = (original.acls.as_ref(), moved.acls.as_ref()) else {
            unreachable!("acls present");
        };
        let (Some(a), Some(b)) = (a.first(), b.first()) else {
            unreachable!("one acl");
        };
        assert_eq!(b.origin.span.0.start, a.origin.span.0.start + 1000);
        assert_eq!(
            b.dst.first().map(|d| d.span.start),
            a.dst.first().map(|d| d.span.start + 1000)
        );
        assert_eq!(
            moved.groups.first().map(|g| g.name.span.start),
            original.groups.first().map(|g| g.name.span.start + 1000)
        );
    }
}
