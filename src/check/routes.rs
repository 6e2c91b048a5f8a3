//! Routes: typed conditions with flow-sensitive `known` guards,
//! reachability and exhaustiveness of rules, and route cycles.

use super::actions::Context;
use super::expr::{Scope, facts_false};
use super::{Checker, logic};
use crate::checked::{self, ActionKind, LookupId, RouteId, SkillKind, Type};
use crate::diagnostic::{Code, Diagnostic};
use crate::source::{FileId, Loc};
use crate::syntax::ast;

impl Checker<'_> {
    pub(super) fn route(&mut self, file: FileId, r: &ast::Route) -> checked::Route {
        let loc = Loc::new(file, r.name.span);
        let mut rules = Vec::with_capacity(r.rules.len());
        // A rule is only tried when every earlier condition was false, so
        // what those false conditions prove holds for the later rules.
        let mut known: Vec<LookupId> = Vec::new();
        for rule in &r.rules {
            let when = rule.when.as_ref().map(|e| {
                let mut scope = Scope {
                    known: known.clone(),
                    ..Scope::default()
                };
                self.expect_expr(file, e, &mut scope, Type::Bool, "a `when` condition")
            });
            if let Some(w) = &when {
                known.extend(facts_false(w));
            }
            let actions = self.actions(file, &rule.actions, Context::Route);
            rules.push(checked::Rule {
                when,
                actions,
                loc: Loc::new(file, rule.head),
            });
        }
        self.rule_coverage(&r.name.text, loc, &rules);
        checked::Route {
            name: r.name.text.clone(),
            loc,
            rules,
        }
    }

    /// D4003 for rules that can never fire, D3001 for a route that may let
    /// a call through without any rule firing.
    fn rule_coverage(&mut self, name: &str, loc: Loc, rules: &[checked::Rule]) {
        let has_otherwise = rules.iter().any(|r| r.when.is_none());
        if rules.is_empty() {
            self.push(
                Diagnostic::at(Code::NonExhaustiveRoute, loc, format!("route `{name}` has no rules"))
                    .label("empty route")
                    .help("add rules such as `when open(business) -> menu main` and end with `otherwise -> ...`"),
            );
            return;
        }
        let conditions: Vec<Option<&checked::Expr>> =
            rules.iter().map(|r| r.when.as_ref()).collect();
        if conditions.iter().flatten().any(|c| has_error(c)) {
            // Conditions that failed to check were reported; reasoning about
            // them would only add confusing follow-on diagnostics.
            return;
        }
        let skills: Vec<SkillKind> = self.program.skills.iter().map(|s| s.kind.clone()).collect();
        let analysis = logic::analyse(&conditions, &skills);
        if let Some(a) = &analysis {
            for (i, rule) in rules.iter().enumerate() {
                if a.reachable[i] {
                    continue;
                }
                let catch_all = rules[..i].iter().find(|r| {
                    r.when.is_none()
                        || matches!(
                            r.when.as_ref().map(|w| &w.kind),
                            Some(checked::ExprKind::Const(checked::Value::Bool(true)))
                        )
                });
                if !a.satisfiable[i] {
                    // Nothing earlier hides it: its own condition is a
                    // contradiction (`waiting > 5 and waiting < 6`).
                    let at = rule.when.as_ref().map_or(rule.loc, |w| w.loc);
                    self.push(
                        Diagnostic::at(Code::UnreachableRule, at, "this rule's condition can never hold, so the rule never fires")
                            .label("false for every call")
                            .help("the parts of the condition contradict each other; correct the comparison that was meant, or remove the rule"),
                    );
                    continue;
                }
                let mut d =
                    Diagnostic::at(Code::UnreachableRule, rule.loc, "this rule can never fire")
                        .label("unreachable");
                d = match catch_all {
                    Some(c) => d.with(c.loc, "this earlier rule catches every call"),
                    None => d.with(
                        Loc::new(
                            rule.loc.file,
                            rules[0].loc.span.to(rules[i.saturating_sub(1)].loc.span),
                        ),
                        "earlier rules catch every call this one would",
                    ),
                };
                self.push(d.help("remove the rule, or move it above the rule that hides it"));
            }
        }
        if has_otherwise {
            return;
        }
        match analysis {
            Some(a) if a.exhaustive => {}
            Some(_) => self.push(
                Diagnostic::at(Code::NonExhaustiveRoute, loc, format!("route `{name}` has no `otherwise`, and some calls match none of its rules"))
                    .label("calls can fall through")
                    .help("add `otherwise -> ...` as the last rule to say where the remaining calls go"),
            ),
            None => self.push(
                Diagnostic::at(Code::NonExhaustiveRoute, loc, format!("route `{name}` has no `otherwise`, and its rules are too complex to prove they cover every call"))
                    .label("calls may fall through")
                    .help("add `otherwise -> ...` as the last rule"),
            ),
        }
    }

    /// D3011 for routes that lead to each other in a loop. Returns whether
    /// there was one.
    pub(super) fn route_cycles(&mut self) -> bool {
        let n = self.program.routes.len();
        // Edges from a route to the routes its rules hand calls to, with the action.
        let edges: Vec<Vec<(usize, Loc)>> = self
            .program
            .routes
            .iter()
            .map(|r| {
                r.rules
                    .iter()
                    .filter_map(|rule| match rule.actions.terminal() {
                        Some(checked::Action {
                            kind: ActionKind::Route(RouteId(to)),
                            loc,
                        }) => Some((*to as usize, *loc)),
                        _ => None,
                    })
                    .collect()
            })
            .collect();
        let mut state = vec![0u8; n]; // 0 new, 1 on stack, 2 done
        let mut reported = vec![false; n];
        for start in 0..n {
            let mut stack: Vec<(usize, usize)> = vec![(start, 0)];
            let mut path: Vec<(usize, Loc)> = Vec::new();
            if state[start] != 0 {
                continue;
            }
            state[start] = 1;
            while let Some(&mut (node, ref mut next)) = stack.last_mut() {
                if *next < edges[node].len() {
                    let (to, at) = edges[node][*next];
                    *next += 1;
                    match state[to] {
                        0 => {
                            state[to] = 1;
                            path.push((node, at));
                            stack.push((to, 0));
                        }
                        1 => {
                            // A cycle: from `to` along the path back to `node`.
                            let mut cycle: Vec<(usize, Loc)> =
                                path.iter().skip_while(|(r, _)| *r != to).copied().collect();
                            cycle.push((node, at));
                            if cycle.iter().any(|(r, _)| reported[*r]) {
                                continue;
                            }
                            for (r, _) in &cycle {
                                reported[*r] = true;
                            }
                            self.report_cycle(&cycle);
                        }
                        _ => {}
                    }
                } else {
                    state[node] = 2;
                    stack.pop();
                    path.pop();
                }
            }
        }
        reported.contains(&true)
    }

    /// D3028 for a chain of routes longer than a call may take without
    /// the caller hearing or pressing anything (`flow::MAX_ROUTE_CHAIN`).
    /// Runs once routes are known not to loop; the longest chain is found
    /// in one pass over the routes in reverse topological order, without
    /// recursion (chains may be thousands long).
    pub(super) fn route_chains(&mut self) {
        let routes = &self.program.routes;
        let n = routes.len();
        let next = |r: usize| {
            routes[r]
                .rules
                .iter()
                .filter_map(|rule| match rule.actions.terminal() {
                    Some(checked::Action {
                        kind: ActionKind::Route(RouteId(to)),
                        ..
                    }) => Some(*to as usize),
                    _ => None,
                })
        };
        // Longest chain from each route, counted in routes; 0 = not yet known.
        let mut longest = vec![0usize; n];
        let mut through = vec![usize::MAX; n];
        for start in 0..n {
            let mut stack = vec![(start, false)];
            while let Some((r, expanded)) = stack.pop() {
                if longest[r] > 0 {
                    continue;
                }
                if expanded {
                    let best = next(r).max_by_key(|&to| longest[to]);
                    longest[r] = 1 + best.map_or(0, |to| longest[to]);
                    through[r] = best.unwrap_or(usize::MAX);
                    continue;
                }
                stack.push((r, true));
                stack.extend(next(r).filter(|&to| longest[to] == 0).map(|to| (to, false)));
            }
        }
        let Some(first) = (0..n)
            .filter(|&r| longest[r] > crate::flow::MAX_ROUTE_CHAIN)
            .max_by_key(|&r| longest[r])
        else {
            return;
        };
        let (length, name, loc) = (
            longest[first],
            routes[first].name.clone(),
            routes[first].loc,
        );
        let mut last = first;
        while through[last] != usize::MAX {
            last = through[last];
        }
        let last_name = routes[last].name.clone();
        self.push(
            Diagnostic::at(
                Code::RouteChain,
                loc,
                format!(
                    "route `{name}` starts a chain of {length} routes, more than the {} a call may pass through",
                    crate::flow::MAX_ROUTE_CHAIN
                ),
            )
            .label(format!("hands calls on route after route, to `{last_name}`"))
            .help("a chain this long is usually generated by mistake; merge routes into one with more rules, or let a menu or queue come between them"),
        );
    }

    fn report_cycle(&mut self, cycle: &[(usize, Loc)]) {
        let names: Vec<String> = cycle
            .iter()
            .map(|(r, _)| format!("`{}`", self.program.routes[*r].name))
            .collect();
        let first = &self.program.routes[cycle[0].0];
        let mut text = names.join(" → ");
        text.push_str(&format!(" → `{}`", first.name));
        let mut d = Diagnostic::at(Code::RouteCycle, cycle[0].1, format!("routes loop: {text}"))
            .label("leads on around the loop")
            .help("a route must end in a menu, queue, group or other action that serves the caller; make one of these rules go somewhere else");
        for (_, at) in &cycle[1..] {
            d = d.with(*at, "and on");
        }
        self.push(d);
    }
}

/// Whether an expression contains a part that failed to check.
fn has_error(e: &checked::Expr) -> bool {
    use checked::ExprKind as K;
    if e.ty == Type::Error {
        return true;
    }
    match &e.kind {
        K::Error => true,
        K::Not(x) | K::Neg(x) | K::Matches(x, _) | K::StartsWith(x, _) | K::In(x, _) => {
            has_error(x)
        }
        K::Binary { lhs, rhs, .. } => has_error(lhs) || has_error(rhs),
        _ => false,
    }
}
