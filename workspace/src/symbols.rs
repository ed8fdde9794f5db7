//! The symbol index: every definition and every reference of a group, tag, host, ipset,
//! posture, user and autogroup, with the span of the name itself, in every fragment.
//! Built from the merged policy, so "find references" and "rename" cross fragments.

use crate::files::{FileId, SourceMap};
use tailpolicy_policy::model::{Alias, Policy};
use tailpolicy_policy::{Span, Spanned};

/// What kind of name a symbol is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SymbolKind {
    /// `group:…`.
    Group,
    /// `tag:…`.
    Tag,
    /// A host alias.
    Host,
    /// `ipset:…`.
    IpSet,
    /// `posture:…`.
    Posture,
    /// A user login.
    User,
    /// `autogroup:…`.
    Autogroup,
}

impl SymbolKind {
    /// Whether names of this kind are defined in the policy (and so can be renamed).
    pub fn is_defined_in_policy(self) -> bool {
        !matches!(self, SymbolKind::User | SymbolKind::Autogroup)
    }

    /// `"group"`, `"tag"`, …
    pub fn as_str(self) -> &'static str {
        match self {
            SymbolKind::Group => "group",
            SymbolKind::Tag => "tag",
            SymbolKind::Host => "host",
            SymbolKind::IpSet => "ipset",
            SymbolKind::Posture => "posture",
            SymbolKind::User => "user",
            SymbolKind::Autogroup => "autogroup",
        }
    }
}

/// A name: its kind and its full spelling (`group:eng`, `tag:web`, `db`, …).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Symbol {
    /// The kind.
    pub kind: SymbolKind,
    /// The name as the policy spells it.
    pub name: String,
}

/// One place a symbol's name is written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Occurrence {
    /// The symbol.
    pub symbol: Symbol,
    /// The fragment.
    pub file: FileId,
    /// The name's bytes in that fragment (inside the quotes, without a `:port`).
    pub span: Span,
    /// Whether this is the definition (the key in `groups`, `tagOwners`, …).
    pub is_definition: bool,
}

/// Every occurrence, sorted by file and position.
#[derive(Clone, Debug, Default)]
pub struct SymbolIndex {
    occurrences: Vec<Occurrence>,
}

impl SymbolIndex {
    /// Indexes `policy` (global spans) laid out by `map`.
    pub fn build(policy: &Policy, map: &SourceMap) -> Self {
        let mut b = Builder {
            map,
            out: Vec::new(),
        };
        b.walk(policy);
        let mut occurrences = b.out;
        occurrences.sort_by_key(|o| (o.file, o.span.start, o.span.end));
        occurrences.dedup();
        Self { occurrences }
    }

    /// Every occurrence, by file and position.
    pub fn occurrences(&self) -> &[Occurrence] {
        &self.occurrences
    }

    /// The occurrence whose name covers `offset` in `file` (its end included, so a
    /// cursor right after a name finds it).
    pub fn at(&self, file: FileId, offset: u32) -> Option<&Occurrence> {
        let first = self
            .occurrences
            .partition_point(|o| (o.file, o.span.end) < (file, offset));
        self.occurrences
            .get(first..)?
            .iter()
            .take_while(|o| o.file == file && o.span.start <= offset)
            .find(|o| o.span.start <= offset && offset <= o.span.end)
    }

    /// The definitions of `symbol`.
    pub fn definitions<'a>(&'a self, symbol: &'a Symbol) -> impl Iterator<Item = &'a Occurrence> {
        self.occurrences
            .iter()
            .filter(move |o| o.is_definition && &o.symbol == symbol)
    }

    /// Every occurrence of `symbol`, definitions included.
    pub fn occurrences_of<'a>(
        &'a self,
        symbol: &'a Symbol,
    ) -> impl Iterator<Item = &'a Occurrence> {
        self.occurrences.iter().filter(move |o| &o.symbol == symbol)
    }

    /// Every distinct symbol of `kind`, sorted.
    pub fn symbols(&self, kind: SymbolKind) -> Vec<&str> {
        let mut names: Vec<&str> = self
            .occurrences
            .iter()
            .filter(|o| o.symbol.kind == kind)
            .map(|o| o.symbol.name.as_str())
            .collect();
        names.sort_unstable();
        names.dedup();
        names
    }
}

struct Builder<'a> {
    map: &'a SourceMap,
    out: Vec<Occurrence>,
}

/// The symbol an alias names, if any.
fn alias_symbol(alias: &Alias) -> Option<Symbol> {
    let (kind, name) = match alias {
        Alias::Group(n) => (SymbolKind::Group, n.clone()),
        Alias::Tag(n) => (SymbolKind::Tag, n.clone()),
        Alias::Host(n) => (SymbolKind::Host, n.clone()),
        Alias::IpSet(n) => (SymbolKind::IpSet, n.clone()),
        Alias::User(n) => (SymbolKind::User, n.clone()),
        Alias::Autogroup(a) => (SymbolKind::Autogroup, a.name().to_owned()),
        _ => return None,
    };
    Some(Symbol { kind, name })
}

impl Builder<'_> {
    /// Records `symbol` written inside the string at global `span`.
    fn push(&mut self, symbol: Symbol, span: Span, is_definition: bool) {
        let Some((file, local)) = self.map.resolve(span) else {
            return;
        };
        let text = self
            .map
            .file(file)
            .map(|f| f.snippet(local))
            .unwrap_or_default();
        // The name inside the quotes; legacy spellings (`autogroup:members`) and
        // escapes fall back to the whole string.
        let name_span = match text.find(symbol.name.as_str()) {
            Some(at) => {
                let start = local.start + u32::try_from(at).unwrap_or(0);
                Span::new(start, start + u32::try_from(symbol.name.len()).unwrap_or(0))
            }
            None if text.len() >= 2 && text.starts_with('"') => {
                Span::new(local.start + 1, local.end.saturating_sub(1))
            }
            None => local,
        };
        self.out.push(Occurrence {
            symbol,
            file,
            span: name_span,
            is_definition,
        });
    }

    fn alias(&mut self, a: &Spanned<Alias>) {
        self.alias_at(&a.value, a.span);
    }

    fn alias_at(&mut self, a: &Alias, span: Span) {
        if let Some(symbol) = alias_symbol(a) {
            self.push(symbol, span, false);
        }
    }

    fn aliases(&mut self, list: &[Spanned<Alias>]) {
        for a in list {
            self.alias(a);
        }
    }

    fn postures(&mut self, list: &[Spanned<String>]) {
        for p in list {
            self.push(
                Symbol {
                    kind: SymbolKind::Posture,
                    name: p.value.clone(),
                },
                p.span,
                false,
            );
        }
    }

    /// A selector written as a plain string (tests): `src`, or `dst` with a port.
    fn selector_string(&mut self, s: &Spanned<String>, with_port: bool) {
        let text = s.value.trim();
        let name = if with_port {
            text.rsplit_once(':').map_or(text, |(n, _)| n)
        } else {
            text
        };
        if let Ok(alias) = Alias::parse(name, false) {
            self.alias_at(&alias, s.span);
        }
    }

    fn define(&mut self, kind: SymbolKind, name: &Spanned<String>) {
        self.push(
            Symbol {
                kind,
                name: name.value.clone(),
            },
            name.span,
            true,
        );
    }

    fn walk(&mut self, p: &Policy) {
        for g in &p.groups {
            self.define(SymbolKind::Group, &g.name);
            for m in &g.members {
                if let Ok(alias) = Alias::parse(&m.value, false) {
                    self.alias_at(&alias, m.span);
                }
            }
        }
        for t in &p.tag_owners {
            self.define(SymbolKind::Tag, &t.tag);
            self.aliases(&t.owners);
        }
        for h in &p.hosts {
            self.define(SymbolKind::Host, &h.name);
        }
        for s in &p.ipsets {
            self.define(SymbolKind::IpSet, &s.name);
            for op in &s.ops {
                self.alias_at(&op.value.target, op.span);
            }
        }
        for s in &p.postures {
            self.define(SymbolKind::Posture, &s.name);
        }
        self.postures(&p.default_src_posture);
        for a in p.acls.iter().flatten() {
            self.aliases(&a.src);
            for d in &a.dst {
                self.alias_at(&d.value.alias, d.span);
            }
            self.postures(&a.src_posture);
        }
        for g in p.grants.iter().flatten() {
            self.aliases(&g.src);
            self.aliases(&g.dst);
            self.aliases(&g.via);
            self.postures(&g.src_posture);
        }
        for s in p.ssh.iter().flatten() {
            self.aliases(&s.src);
            self.aliases(&s.dst);
            self.aliases(&s.recorder);
            self.postures(&s.src_posture);
        }
        for (_, who) in &p.auto_approvers.routes {
            self.aliases(who);
        }
        self.aliases(&p.auto_approvers.exit_node);
        for (_, who) in &p.auto_approvers.services {
            self.aliases(who);
        }
        for n in &p.node_attrs {
            self.aliases(&n.target);
        }
        for t in &p.tests {
            if let Some(src) = &t.src {
                self.selector_string(src, false);
            }
            for d in t.accept.iter().flatten().chain(t.deny.iter().flatten()) {
                self.selector_string(d, true);
            }
        }
        for t in &p.ssh_tests {
            if let Some(src) = &t.src {
                self.selector_string(src, false);
            }
            for d in &t.dst {
                self.selector_string(d, false);
            }
        }
    }
}
