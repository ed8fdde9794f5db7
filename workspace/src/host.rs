//! [`Workspace`]: the analysis host. It owns the inputs (policy fragments, inventory,
//! configuration) and answers every query about them from caches that an input change
//! invalidates only where it matters.
//!
//! What each query depends on:
//!
//! | query | depends on |
//! |---|---|
//! | a fragment's parse and lowering | that fragment's text |
//! | the merged policy, [`SourceMap`] | every fragment's lowering, `[policy]` configuration |
//! | check and lint diagnostics | the merged policy, the inventory's tailnet domain |
//! | `tests`/`sshTests` diagnostics | the merged policy, the inventory |
//! | the inventory | its text |
//! | [`Workspace::report`] | all of the above, suppressions, `[lint]` configuration |
//! | [`Workspace::tailnet`] | the merged policy, the inventory |
//! | [`Workspace::compiler`] | the merged policy, the inventory (a node joining or leaving takes the compiler's incremental path) |
//! | [`Workspace::symbols`] | the merged policy |
//!
//! An edit inside one string value of a fragment is applied to its previous analysis
//! (`fragment::update`) instead of parsing the text again; a one-fragment policy that
//! merging leaves as it is shares the fragment's model; the rule lints
//! ([`tailpolicy_policy::lint_rules`]) survive an edit outside `acls` and `grants`,
//! and are updated for the one rule an edit inside them lowered again
//! ([`RuleLints::update`]: its pair index kept, only the rules whose search reads a
//! list the rule is on compared again).
//!
//! The host is pure: it never reads files, the clock or the environment. Queries take
//! `&self` and return shared (`Arc`) results; setters take `&mut self` and drop the
//! caches that depend on what changed.

use crate::config::Config;
use crate::files::{FileId, FileInput, SourceMap};
use crate::fragment::{self, Fragment};
use crate::merge::{self, Merged};
use crate::symbols::{Occurrence, SymbolIndex};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use tailpolicy_compiler::ResolveOptions;
use tailpolicy_compiler::eval::{Tailnet, run_policy_tests};
use tailpolicy_compiler::inventory::Inventory;
use tailpolicy_compiler::{CompileOptions, Compiler};
use tailpolicy_policy::{
    CheckOptions, Diagnostic, Diagnostics, Dialect, Policy, RuleLints, Severity, SourceFile,
};
use tailpolicy_tailcfg::addr::{AddrSet, parse_addr_list};
use tailpolicy_tailcfg::wire::FilterRule;

/// The analysis host: a tailnet's policy (one file or the fragments of a multi-file
/// policy), its inventory and its configuration, and every query over them.
#[derive(Debug, Default)]
pub struct Workspace {
    config: Arc<Config>,
    /// `--dialect`, overriding the configuration's.
    dialect_override: Option<Dialect>,
    fragments: Vec<Slot>,
    inventory: Option<InventorySlot>,
    merged: OnceLock<Arc<MergedPolicy>>,
    checked: Mutex<Option<Checked>>,
    /// [`tailpolicy_policy::lint_rules`] of the merged policy, when computed.
    rule_lints: Mutex<Option<RuleLintCache>>,
    report: OnceLock<Arc<Report>>,
    tailnet: OnceLock<Arc<Tailnet>>,
    compiler: Mutex<Option<Arc<Compiler<'static>>>>,
    symbols: OnceLock<Arc<SymbolIndex>>,
    stats: Counters,
}

/// The rule lints of the previous analysis and the one rule edited since, if any.
#[derive(Debug)]
struct RuleLintCache {
    lints: RuleLints,
    /// The section key (as written) and element of a rule lowered again since the
    /// lints were computed: [`RuleLints::update`] before they are read.
    pending: Option<(String, usize)>,
}

#[derive(Debug)]
struct Slot {
    input: FileInput,
    analysis: OnceLock<Arc<Fragment>>,
}

#[derive(Debug)]
struct InventorySlot {
    input: FileInput,
    analysis: OnceLock<Arc<InventoryAnalysis>>,
}

/// Check and lint diagnostics with the tailnet domains they were computed for.
#[derive(Debug)]
struct Checked {
    domains: Option<Vec<String>>,
    diagnostics: Arc<Vec<Diagnostic>>,
}

/// The inventory read.
#[derive(Clone, Debug)]
pub struct InventoryAnalysis {
    /// The file.
    pub file: SourceFile,
    /// The inventory, when it has no errors.
    pub inventory: Option<Inventory>,
    /// Its diagnostics, by position.
    pub diagnostics: Vec<Diagnostic>,
}

/// The fragments merged into one policy.
#[derive(Clone, Debug)]
pub struct MergedPolicy {
    /// Where each fragment sits; maps the policy's spans back to files.
    pub map: SourceMap,
    /// Every fragment's text at its base (for lints that read spellings).
    pub text: String,
    /// The merged policy (spans global), `None` when a fragment did not parse.
    pub policy: Option<Arc<Policy>>,
    /// Merge diagnostics (global spans).
    pub diagnostics: Vec<Diagnostic>,
    /// The fragments, in order.
    pub fragments: Vec<Arc<Fragment>>,
}

/// Every file's diagnostics, after `tailpolicy:ignore` comments and configuration.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// One entry per file: the fragments in order, then the inventory.
    pub files: Vec<FileReport>,
}

/// One file's diagnostics.
#[derive(Clone, Debug)]
pub struct FileReport {
    /// The file.
    pub file: SourceFile,
    /// Which fragment (`None` for the inventory).
    pub fragment: Option<FileId>,
    /// Its diagnostics, spans local to it, sorted by position.
    pub diagnostics: Vec<Diagnostic>,
}

impl Report {
    /// Whether any file has an error.
    pub fn has_errors(&self) -> bool {
        self.files
            .iter()
            .any(|f| f.diagnostics.iter().any(Diagnostic::is_error))
    }

    /// Every diagnostic with its file.
    pub fn iter(&self) -> impl Iterator<Item = (&SourceFile, &Diagnostic)> {
        self.files
            .iter()
            .flat_map(|f| f.diagnostics.iter().map(move |d| (&f.file, d)))
    }
}

/// Why a query that needs a valid policy cannot be answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Unavailable {
    /// A fragment did not parse: there is no policy.
    NoPolicy,
    /// The policy or the inventory has errors (see [`Workspace::report`]).
    Errors,
    /// The query needs an inventory and none was given.
    NoInventory,
}

/// How often each stage ran: what tests and benchmarks use to see the caching work.
#[derive(Debug, Default)]
struct Counters {
    fragment_parses: AtomicUsize,
    fragment_updates: AtomicUsize,
    inventory_parses: AtomicUsize,
    merges: AtomicUsize,
    checks: AtomicUsize,
    full_compiles: AtomicUsize,
    incremental_compiles: AtomicUsize,
    rule_lint_runs: AtomicUsize,
    rule_lint_updates: AtomicUsize,
}

/// A snapshot of [`Workspace::stats`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Fragments parsed and lowered (including those edited in place).
    pub fragment_parses: usize,
    /// Of those, edits applied to the previous analysis without parsing again.
    pub fragment_updates: usize,
    /// Inventories parsed.
    pub inventory_parses: usize,
    /// Merges of the fragments.
    pub merges: usize,
    /// Check and lint runs over the merged policy.
    pub checks: usize,
    /// Compilations from scratch.
    pub full_compiles: usize,
    /// Inventory changes applied through the compiler's incremental path.
    pub incremental_compiles: usize,
    /// Rule lints ([`tailpolicy_policy::lint_rules`]) computed from scratch.
    pub rule_lint_runs: usize,
    /// Rule lints updated for one edited rule ([`RuleLints::update`]).
    pub rule_lint_updates: usize,
}

fn bump(counter: &AtomicUsize) {
    counter.fetch_add(1, Ordering::Relaxed);
}

impl Workspace {
    /// An empty workspace with `config`.
    pub fn new(config: Config) -> Self {
        Self {
            config: Arc::new(config),
            ..Self::default()
        }
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Replaces the configuration.
    pub fn set_config(&mut self, config: Config) {
        let dialect = self.dialect();
        self.config = Arc::new(config);
        if self.dialect() != dialect {
            self.invalidate_fragments();
        }
        self.invalidate_policy();
    }

    /// Overrides the configuration's dialect (`--dialect`); `None` keeps it.
    pub fn set_dialect(&mut self, dialect: Option<Dialect>) {
        let before = self.dialect();
        self.dialect_override = dialect;
        if self.dialect() != before {
            self.invalidate_fragments();
            self.invalidate_policy();
        }
    }

    /// Whose rules the policy is read and checked by: `--dialect`, else the
    /// configuration's `dialect`, else Tailscale's.
    pub fn dialect(&self) -> Dialect {
        self.dialect_override
            .or(self.config.dialect)
            .unwrap_or_default()
    }

    /// Whether the configuration selects the security audit (`TP11xx`), which is off
    /// unless asked for.
    fn audit(&self) -> bool {
        self.config.selects_audit()
    }

    fn invalidate_fragments(&mut self) {
        for slot in &mut self.fragments {
            slot.analysis = OnceLock::new();
        }
    }

    /// Sets the policy's fragments, in merge order (one file for a single-file
    /// policy). Fragments whose name and contents are unchanged keep their analysis.
    pub fn set_fragments(&mut self, inputs: Vec<FileInput>) {
        let mut old = std::mem::take(&mut self.fragments);
        self.fragments = inputs
            .into_iter()
            .map(|input| {
                match old
                    .iter()
                    .position(|s| s.input.name == input.name && s.input.contents == input.contents)
                {
                    Some(i) => {
                        let mut slot = old.swap_remove(i);
                        slot.input = input;
                        slot
                    }
                    None => Slot {
                        input,
                        analysis: OnceLock::new(),
                    },
                }
            })
            .collect();
        self.invalidate_policy();
    }

    /// Replaces the text of the fragment called `input.name`. Returns `false` (and
    /// changes nothing) when no fragment has that name.
    ///
    /// An edit inside one string value of a section (see `fragment::update`) is applied
    /// to the previous analysis without parsing the text again.
    pub fn set_fragment(&mut self, input: FileInput) -> bool {
        let Some(i) = self
            .fragments
            .iter()
            .position(|s| s.input.name == input.name)
        else {
            return false;
        };
        let dialect = self.dialect();
        let previous = match self.fragments.get_mut(i) {
            Some(slot) if slot.input.contents != input.contents => {
                slot.input = input;
                slot.analysis.take()
            }
            Some(slot) => {
                slot.input.version = input.version;
                return true;
            }
            None => return false,
        };
        let rule_lints = self
            .rule_lints
            .get_mut()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        // The merged policy holds the previous analysis: dropped first, the analysis
        // is then this slot's alone and is edited without a copy.
        self.invalidate_policy();
        let single = self.fragments.len() == 1;
        if let (Some(previous), Some(slot)) = (previous, self.fragments.get_mut(i)) {
            let mut previous = Arc::try_unwrap(previous).unwrap_or_else(|a| (*a).clone());
            if let Some((updated, edit)) = fragment::update(&mut previous, &slot.input, dialect) {
                bump(&self.stats.fragment_parses);
                bump(&self.stats.fragment_updates);
                slot.analysis = OnceLock::from(Arc::new(updated));
                // One fragment (its spans are the merged policy's): the rule lints'
                // inputs only moved, unless the edit was in `acls` or `grants`; then
                // one rule changed, and they are updated for it when next read.
                if single && let Some(mut cache) = rule_lints {
                    for d in cache.lints.diagnostics_mut() {
                        fragment::move_diagnostic(d, edit.at, edit.by);
                    }
                    let in_rules = ["acls", "grants"]
                        .iter()
                        .any(|k| k.eq_ignore_ascii_case(&edit.section));
                    let keep = match (in_rules, edit.element, &cache.pending) {
                        (false, _, _) => true,
                        (true, Some(e), None) => {
                            cache.pending = Some((edit.section.clone(), e));
                            true
                        }
                        (true, Some(e), Some((section, pending))) => {
                            *section == edit.section && *pending == e
                        }
                        (true, None, _) => false,
                    };
                    if keep {
                        *self.rule_lints.get_mut().unwrap_or_else(|e| e.into_inner()) = Some(cache);
                    }
                }
            }
        }
        true
    }

    /// Replaces (or removes, with `None`) the inventory. No policy is parsed again; the
    /// compiled filters follow through the compiler's incremental path when nodes only
    /// joined or left.
    pub fn set_inventory(&mut self, input: Option<FileInput>) {
        if let (Some(old), Some(new)) = (&self.inventory, &input)
            && old.input.name == new.name
            && old.input.contents == new.contents
        {
            return;
        }
        self.inventory = input.map(|input| InventorySlot {
            input,
            analysis: OnceLock::new(),
        });
        self.report = OnceLock::new();
        self.tailnet = OnceLock::new();
    }

    fn invalidate_policy(&mut self) {
        self.merged = OnceLock::new();
        self.report = OnceLock::new();
        self.tailnet = OnceLock::new();
        self.symbols = OnceLock::new();
        *self.checked.get_mut().unwrap_or_else(|e| e.into_inner()) = None;
        *self.rule_lints.get_mut().unwrap_or_else(|e| e.into_inner()) = None;
        *self.compiler.get_mut().unwrap_or_else(|e| e.into_inner()) = None;
    }

    /// The fragments' inputs, in order.
    pub fn fragment_inputs(&self) -> impl Iterator<Item = &FileInput> {
        self.fragments.iter().map(|s| &s.input)
    }

    /// The fragment called `name`.
    pub fn fragment_id(&self, name: &str) -> Option<FileId> {
        self.fragments
            .iter()
            .position(|s| s.input.name == name)
            .map(FileId)
    }

    /// The inventory's input.
    pub fn inventory_input(&self) -> Option<&FileInput> {
        self.inventory.as_ref().map(|s| &s.input)
    }

    /// How often each stage ran since the workspace was created.
    pub fn stats(&self) -> Stats {
        let c = &self.stats;
        let get = |a: &AtomicUsize| a.load(Ordering::Relaxed);
        Stats {
            fragment_parses: get(&c.fragment_parses),
            fragment_updates: get(&c.fragment_updates),
            inventory_parses: get(&c.inventory_parses),
            merges: get(&c.merges),
            checks: get(&c.checks),
            full_compiles: get(&c.full_compiles),
            incremental_compiles: get(&c.incremental_compiles),
            rule_lint_runs: get(&c.rule_lint_runs),
            rule_lint_updates: get(&c.rule_lint_updates),
        }
    }

    fn fragment(&self, slot: &Slot) -> Arc<Fragment> {
        slot.analysis
            .get_or_init(|| {
                bump(&self.stats.fragment_parses);
                Arc::new(fragment::analyse(&slot.input, self.dialect()))
            })
            .clone()
    }

    /// The inventory read, if one was given.
    pub fn inventory(&self) -> Option<Arc<InventoryAnalysis>> {
        let slot = self.inventory.as_ref()?;
        Some(
            slot.analysis
                .get_or_init(|| {
                    bump(&self.stats.inventory_parses);
                    let text = slot.input.contents.to_text();
                    let (inventory, diagnostics) = tailpolicy_compiler::inventory::load(&text);
                    let has_errors = diagnostics.has_errors();
                    let mut diagnostics = diagnostics.into_vec();
                    diagnostics.sort_by_key(|d| (d.span.start, d.span.end, d.code));
                    Arc::new(InventoryAnalysis {
                        file: SourceFile::new(slot.input.name.clone(), text),
                        inventory: inventory.filter(|_| !has_errors),
                        diagnostics,
                    })
                })
                .clone(),
        )
    }

    /// The merged policy with its source map (one fragment: that file's policy).
    pub fn merged(&self) -> Arc<MergedPolicy> {
        self.merged
            .get_or_init(|| {
                bump(&self.stats.merges);
                let fragments: Vec<Arc<Fragment>> =
                    self.fragments.iter().map(|s| self.fragment(s)).collect();
                let files = fragments.iter().map(|f| f.file.clone()).collect();
                let map = SourceMap::new(files).unwrap_or_default();
                let refs: Vec<&Fragment> = fragments.iter().map(Arc::as_ref).collect();
                let Merged {
                    policy,
                    diagnostics,
                } = merge::merge(&refs, &map, &self.config.policy);
                Arc::new(MergedPolicy {
                    text: map.merged_text(),
                    map,
                    policy,
                    diagnostics,
                    fragments,
                })
            })
            .clone()
    }

    /// The merged policy, whatever its diagnostics (`None` when a fragment did not
    /// parse). Spans are global: map them with [`Workspace::source_map`].
    pub fn policy(&self) -> Option<Arc<Policy>> {
        self.merged().policy.clone()
    }

    /// The policy, when the whole workspace (policy and inventory) has no errors: what
    /// compilation and the evaluator may run on.
    pub fn checked_policy(&self) -> Result<Arc<Policy>, Unavailable> {
        let policy = self.policy().ok_or(Unavailable::NoPolicy)?;
        if self.report().has_errors() {
            return Err(Unavailable::Errors);
        }
        Ok(policy)
    }

    /// The source map of the merged policy.
    pub fn source_map(&self) -> SourceMap {
        self.merged().map.clone()
    }

    /// The tailnet's e-mail domains, from the inventory's owner.
    fn domains(&self) -> Option<Vec<String>> {
        let inventory = self.inventory()?;
        let domain = inventory.inventory.as_ref()?.tailnet_domain()?;
        Some(vec![domain.to_owned()])
    }

    /// Check and lint diagnostics of the merged policy (global spans).
    fn checked(&self, merged: &MergedPolicy) -> Arc<Vec<Diagnostic>> {
        let domains = self.domains();
        let mut cache = self.checked.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(c) = cache.as_ref()
            && c.domains == domains
        {
            return c.diagnostics.clone();
        }
        let diagnostics = match &merged.policy {
            Some(policy) => {
                bump(&self.stats.checks);
                let options = CheckOptions {
                    tailnet_domains: domains.clone(),
                    dialect: self.dialect(),
                    audit: self.audit(),
                };
                let mut d = tailpolicy_policy::check(policy, &options).into_vec();
                d.extend(tailpolicy_policy::lint_all_but_rules(policy, &merged.text));
                self.extend_rule_lints(policy, &mut d);
                if options.audit {
                    d.extend(tailpolicy_policy::audit(policy));
                }
                d
            }
            None => Vec::new(),
        };
        let diagnostics = Arc::new(diagnostics);
        *cache = Some(Checked {
            domains,
            diagnostics: diagnostics.clone(),
        });
        diagnostics
    }

    /// Appends [`tailpolicy_policy::lint_rules`] of the merged policy `policy` to `out`:
    /// from the cache when an edit left them valid, updated there when it changed one
    /// rule.
    fn extend_rule_lints(&self, policy: &Policy, out: &mut Vec<Diagnostic>) {
        let mut cache = self.rule_lints.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(c) = cache.as_mut()
            && let Some((section, element)) = c.pending.take()
        {
            if c.lints.update(policy, &section, element) {
                bump(&self.stats.rule_lint_updates);
            } else {
                *cache = None;
            }
        }
        let c = cache.get_or_insert_with(|| {
            bump(&self.stats.rule_lint_runs);
            RuleLintCache {
                lints: RuleLints::new(policy),
                pending: None,
            }
        });
        out.extend(c.lints.diagnostics().iter().cloned());
    }

    /// The `tests`/`sshTests` failures, as `lint` reports them: evaluated only on a
    /// policy without errors; without an inventory by identity, failures then warnings.
    fn test_diagnostics(&self, policy: &Policy) -> Vec<Diagnostic> {
        if policy.tests.is_empty() && policy.ssh_tests.is_empty() {
            return Vec::new();
        }
        let inventory = self.inventory();
        let tailnet = self.tailnet_for(policy, inventory.as_deref());
        let without_inventory = inventory.is_none();
        run_policy_tests(policy, &tailnet)
            .into_iter()
            .filter_map(|o| o.diagnostic)
            .map(|d| {
                if without_inventory {
                    d.with_severity(Severity::Warning).with_help(
                        "evaluated without an inventory, by identity only; pass `--nodes` to evaluate against your tailnet as Tailscale does",
                    )
                } else {
                    d
                }
            })
            .collect()
    }

    /// Every file's diagnostics: syntax, structure, merge, references, rule semantics,
    /// lints, `tests`, and the inventory's; suppressions and configuration applied.
    pub fn report(&self) -> Arc<Report> {
        self.report
            .get_or_init(|| Arc::new(self.build_report()))
            .clone()
    }

    fn build_report(&self) -> Report {
        let merged = self.merged();
        let mut global: Vec<Diagnostic> = merged.diagnostics.clone();
        let checked = self.checked(&merged);
        global.extend(checked.iter().cloned());
        let inventory = self.inventory();
        let raw_errors = merged
            .fragments
            .iter()
            .flat_map(|f| &f.diagnostics)
            .chain(&global)
            .any(Diagnostic::is_error);
        let inventory_ok = inventory.as_ref().is_none_or(|i| i.inventory.is_some());
        if let Some(policy) = &merged.policy
            && !raw_errors
            && inventory_ok
        {
            global.extend(self.test_diagnostics(policy));
        }
        let mut per_file: Vec<Vec<Diagnostic>> = merged
            .fragments
            .iter()
            .map(|f| f.diagnostics.clone())
            .collect();
        for mut d in global {
            let Some((file, span)) = merged.map.resolve(d.span) else {
                continue;
            };
            d.span = span;
            // Labels in another fragment become related locations.
            let labels = std::mem::take(&mut d.labels);
            for mut label in labels {
                match merged.map.resolve(label.span) {
                    Some((f, local)) if f == file => {
                        label.span = local;
                        d.labels.push(label);
                    }
                    Some((f, local)) => {
                        if let Some(source) = merged.map.file(f) {
                            let (start, end) = source.span_line_cols(local);
                            d.related.push(tailpolicy_policy::Related {
                                file: source.name().to_owned(),
                                span: local,
                                start,
                                end,
                                message: label.message,
                            });
                        }
                    }
                    None => {}
                }
            }
            if let Some(list) = per_file.get_mut(file.0) {
                list.push(d);
            }
        }
        let mut files: Vec<FileReport> = merged
            .fragments
            .iter()
            .zip(per_file)
            .enumerate()
            .map(|(i, (fragment, diagnostics))| {
                let diagnostics: Diagnostics = diagnostics.into_iter().collect();
                let diagnostics = fragment.suppressions.apply_to(&fragment.file, diagnostics);
                let mut diagnostics = self.config.apply(&fragment.relative, diagnostics);
                diagnostics.sort();
                FileReport {
                    file: fragment.file.clone(),
                    fragment: Some(FileId(i)),
                    diagnostics: diagnostics.into_vec(),
                }
            })
            .collect();
        if let Some(inventory) = inventory
            && !inventory.diagnostics.is_empty()
        {
            files.push(FileReport {
                file: inventory.file.clone(),
                fragment: None,
                diagnostics: inventory.diagnostics.clone(),
            });
        }
        Report { files }
    }

    /// The inventory with users named as the policy names them (headscale listings
    /// name a user several ways; the policy's spelling is taken), when it has no errors.
    fn adopted_inventory(&self, policy: &Policy) -> Option<Inventory> {
        let mut inventory = self.inventory()?.inventory.clone()?;
        inventory.adopt_policy_users(policy);
        Some(inventory)
    }

    fn tailnet_for(&self, policy: &Policy, inventory: Option<&InventoryAnalysis>) -> Tailnet {
        let adopted = inventory
            .and_then(|i| i.inventory.as_ref())
            .and_then(|_| self.adopted_inventory(policy));
        match adopted {
            Some(inv) => Tailnet::from_inventory(policy, &inv, ResolveOptions::default()),
            None => Tailnet {
                open_users: true,
                ..Tailnet::default()
            },
        }
    }

    /// The evaluator's view of the tailnet (for `test`, `reach`, `matrix`, `diff`):
    /// from the inventory with routes approved by hand or by `autoApprovers`, or, with
    /// no inventory, a tailnet where every login is a user.
    pub fn tailnet(&self) -> Result<Arc<Tailnet>, Unavailable> {
        let policy = self.policy().ok_or(Unavailable::NoPolicy)?;
        Ok(self
            .tailnet
            .get_or_init(|| Arc::new(self.tailnet_for(&policy, self.inventory().as_deref())))
            .clone())
    }

    /// The compiler for the checked policy and the inventory: every node's packet
    /// filter, SSH policy and approved routes.
    pub fn compiler(&self) -> Result<Arc<Compiler<'static>>, Unavailable> {
        let policy = self.checked_policy()?;
        let inventory = self
            .adopted_inventory(&policy)
            .ok_or(Unavailable::NoInventory)?;
        let mut cache = self.compiler.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(compiler) = cache.as_mut() {
            if compiler.inventory() == &inventory {
                return Ok(compiler.clone());
            }
            if let Some(plan) = JoinPlan::between(compiler.inventory(), &inventory) {
                bump(&self.stats.incremental_compiles);
                let c = Arc::make_mut(compiler);
                for name in &plan.leave {
                    c.remove_node(name);
                }
                for node in plan.join {
                    c.add_node(node);
                }
                if c.inventory() == &inventory {
                    return Ok(compiler.clone());
                }
            }
        }
        bump(&self.stats.full_compiles);
        let options = CompileOptions {
            dialect: self.dialect(),
            ..CompileOptions::default()
        };
        let compiler = Arc::new(Compiler::shared(policy, inventory, options));
        *cache = Some(compiler.clone());
        Ok(compiler)
    }

    /// The compiler, only when it is already computed for the current policy and
    /// inventory (`None` otherwise): for callers that show compiled results only when
    /// they cost nothing, such as an editor's hints on a large policy.
    pub fn compiler_if_ready(&self) -> Option<Arc<Compiler<'static>>> {
        let policy = self.checked_policy().ok()?;
        let inventory = self.adopted_inventory(&policy)?;
        let cache = self.compiler.lock().unwrap_or_else(|e| e.into_inner());
        cache
            .as_ref()
            .filter(|c| std::ptr::eq(c.policy(), policy.as_ref()) && c.inventory() == &inventory)
            .cloned()
    }

    /// The packet filter of the node called `name` and the destinations it accepts
    /// (its addresses and approved routes; an approved exit node's include
    /// `0.0.0.0/0` and `::/0`): what `simulate` and the node enforce, exactly as
    /// `compile` prints it.
    pub fn node_filter(&self, name: &str) -> Result<NodeFilter, NodeFilterError> {
        let compiler = self.compiler().map_err(NodeFilterError::Unavailable)?;
        let (Some(compiled), Some(node)) = (compiler.node(name), compiler.inventory().node(name))
        else {
            return Err(NodeFilterError::UnknownNode(name.to_owned()));
        };
        let mut local: Vec<String> = node.addresses().map(|a| a.to_string()).collect();
        local.extend(compiled.approved_routes.iter().map(ToString::to_string));
        let local_nets = parse_addr_list(&local).map_err(|(i, _)| {
            NodeFilterError::BadLocalAddress(local.get(i).cloned().unwrap_or_default())
        })?;
        Ok(NodeFilter {
            rules: compiled
                .packet_filter
                .iter()
                .map(|r| r.rule.clone())
                .collect(),
            local_nets,
        })
    }

    /// The symbol index of the merged policy (empty when a fragment did not parse).
    pub fn symbols(&self) -> Arc<SymbolIndex> {
        self.symbols
            .get_or_init(|| {
                let merged = self.merged();
                Arc::new(match &merged.policy {
                    Some(p) => SymbolIndex::build(p, &merged.map),
                    None => SymbolIndex::default(),
                })
            })
            .clone()
    }

    /// The symbol whose name is written at byte `offset` of the fragment `file`.
    pub fn symbol_at(&self, file: FileId, offset: u32) -> Option<Occurrence> {
        self.symbols().at(file, offset).cloned()
    }
}

/// One node's packet filter and local nets ([`Workspace::node_filter`]).
#[derive(Clone, Debug)]
pub struct NodeFilter {
    /// The node's `PacketFilter`.
    pub rules: Vec<FilterRule>,
    /// Destinations the node accepts traffic for.
    pub local_nets: AddrSet,
}

/// Why [`Workspace::node_filter`] has no answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NodeFilterError {
    /// No valid policy or no inventory.
    Unavailable(Unavailable),
    /// The inventory has no node of that name.
    UnknownNode(String),
    /// An address or route of the node that the filter cannot hold.
    BadLocalAddress(String),
}

/// How to go from one inventory to another by nodes leaving and joining only: the
/// same owner and users, the staying nodes unchanged and in the same order, the new
/// nodes at the end.
struct JoinPlan {
    leave: Vec<String>,
    join: Vec<tailpolicy_compiler::Node>,
}

impl JoinPlan {
    fn between(old: &Inventory, new: &Inventory) -> Option<Self> {
        if old.tailnet_owner != new.tailnet_owner || old.users != new.users {
            return None;
        }
        let mut leave = Vec::new();
        let mut kept = 0usize;
        for node in &old.nodes {
            match new.nodes.get(kept) {
                Some(n) if n == node => kept += 1,
                _ if new.nodes.iter().any(|n| n.name == node.name) => return None,
                _ => leave.push(node.name.clone()),
            }
        }
        let join: Vec<_> = new.nodes.get(kept..)?.to_vec();
        if join
            .iter()
            .any(|n| old.nodes.iter().any(|o| o.name == n.name))
        {
            return None;
        }
        Some(Self { leave, join })
    }
}
