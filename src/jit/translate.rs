//! Translation of one IR function into Cranelift IR: a `translate_*`-style
//! method per construct, in the manner of cranelift-jit-demo.
//!
//! Integers are `i64`; booleans are `i64` 0 or 1; text is a (pointer,
//! length) pair. `and`/`or` short-circuit, text against a constant and dial
//! patterns are compiled inline, other text operations call host helpers.
//!
//! The text a function reads of the call (pointers and lengths) is loaded
//! once in its entry block and kept for every rule, and every rule of a
//! first-match body leaves through one exit block that takes the rule's
//! index.

use std::collections::BTreeSet;

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{
    self as clif, Block, BlockArg, InstBuilder, MemFlagsData, Value, types,
};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use cranelift_jit::JITModule;
use cranelift_module::{FuncId as ClifFuncId, Module as _};

use super::view::{
    AGENT_ATTRS, AGENT_SKILLS, CALL_CALLER, CALL_DIALED, CALL_DIGITS, CALL_QUEUES, CALL_ROWS,
    CALL_SWITCHES, CALL_TIME, QUEUE_SIZE, ROW_SIZE, SLOT_SIZE, TIME_SIZE,
};
use crate::checked::QueueStat;
use crate::facts::{QueueStats, attr_index};
use crate::ir::{ArithOp, Body, CmpOp, FuncId, Function, Module, Node, TimeField};
use crate::number::Pattern;

pub struct Helpers {
    pub text_eq: ClifFuncId,
    pub prefix_of: ClifFuncId,
}

/// What every function of a module is translated against.
pub struct Shared<'a> {
    pub module: &'a Module,
    /// The constant strings, at the addresses the code will use.
    pub strings: &'a [Box<[u8]>],
    /// Cranelift ids of every IR function, for calls between them.
    pub ids: &'a [ClifFuncId],
    pub helpers: &'a Helpers,
}

/// Translates `f` into `func`, which has the decision signature.
pub fn function(
    jit: &mut JITModule,
    func: &mut clif::Function,
    fctx: &mut FunctionBuilderContext,
    shared: &Shared<'_>,
    f: &Function,
) {
    let mut b = FunctionBuilder::new(func, fctx);
    let entry = b.create_block();
    b.append_block_params_for_function_params(entry);
    b.switch_to_block(entry);
    let (ctx, agent) = (b.block_params(entry)[0], b.block_params(entry)[1]);
    let mut t = Translator {
        b,
        jit,
        module: shared.module,
        strings: shared.strings,
        ids: shared.ids,
        helpers: shared.helpers,
        ctx,
        agent,
        facts: Preloaded::default(),
    };
    t.preload(&Reads::of(shared.module, &f.body));
    match &f.body {
        Body::FirstMatch(conditions) => {
            // One exit for every rule: each fire block only passes its
            // index, so the epilogue is emitted once, not once per rule.
            let exit = t.b.create_block();
            t.b.append_block_param(exit, types::I64);
            for (i, c) in conditions.iter().enumerate() {
                // At most one rule fires per run: its block goes after the
                // hot path, so the tests of the rules lie together.
                let fire = t.b.create_block();
                t.b.set_cold_block(fire);
                let next = t.b.create_block();
                t.branch(c, fire, next);
                t.b.switch_to_block(fire);
                let r = t.b.ins().iconst(types::I64, i as i64);
                t.b.ins().jump(exit, &[BlockArg::Value(r)]);
                t.b.switch_to_block(next);
            }
            let none = t.b.ins().iconst(types::I64, -1);
            t.b.ins().jump(exit, &[BlockArg::Value(none)]);
            t.b.switch_to_block(exit);
            let r = t.b.block_params(exit)[0];
            t.b.ins().return_(&[r]);
        }
        Body::Bool(n) => {
            let holds = t.cond(n);
            let r = t.widen(holds);
            t.b.ins().return_(&[r]);
        }
        Body::Int(n) => {
            let v = t.int(n);
            t.b.ins().return_(&[v]);
        }
    }
    t.b.seal_all_blocks();
    let target = t.jit.target_config();
    t.b.finalize(target);
}

struct Translator<'a, 'b> {
    b: FunctionBuilder<'b>,
    jit: &'a mut JITModule,
    module: &'a Module,
    strings: &'a [Box<[u8]>],
    ids: &'a [ClifFuncId],
    helpers: &'a Helpers,
    ctx: Value,
    agent: Value,
    /// The facts loaded in the entry block.
    facts: Preloaded,
}

/// Which texts of the call a function's body reads, through the boolean
/// and integer functions it inlines: what its entry block loads once.
///
/// Only text is kept this way. Keeping the other facts too (time fields,
/// lookup rows, the statistics base) in registers for the whole function
/// cost 10 % more compilation for the 500-rule route (regalloc2 pays for
/// every long live range, and they outnumber the callee-saved registers);
/// those stay read-only loads that Cranelift places at their uses.
#[derive(Default)]
struct Reads {
    caller: bool,
    dialed: bool,
    digits: bool,
}

impl Reads {
    fn of(module: &Module, body: &Body) -> Reads {
        let mut reads = Reads::default();
        let mut pending: Vec<&Node> = match body {
            Body::FirstMatch(conditions) => conditions.iter().collect(),
            Body::Bool(n) | Body::Int(n) => vec![n],
        };
        let mut inlined: BTreeSet<FuncId> = BTreeSet::new();
        while let Some(n) = pending.pop() {
            let mut calls = Vec::new();
            n.visit(&mut |x| match x {
                Node::Caller => reads.caller = true,
                Node::Dialed => reads.dialed = true,
                Node::Digits => reads.digits = true,
                Node::Call(f) => calls.push(*f),
                _ => {}
            });
            for f in calls {
                // Boolean and integer functions are translated inline.
                if let Body::Bool(b) | Body::Int(b) = &module.function(f).body
                    && inlined.insert(f)
                {
                    pending.push(b);
                }
            }
        }
        reads
    }
}

/// The call's texts, loaded once in a function's entry block.
#[derive(Default)]
struct Preloaded {
    caller: Option<(Value, Value)>,
    dialed: Option<(Value, Value)>,
    digits: Option<(Value, Value)>,
}

/// Where a time field sits in `LocalTime`, in fields.
fn time_index(field: TimeField) -> usize {
    TimeField::ALL.iter().position(|f| *f == field).unwrap_or(0)
}

impl Translator<'_, '_> {
    /// Loads the texts the function reads of the call in the current
    /// (entry) block. Every text view is valid whatever the call.
    fn preload(&mut self, reads: &Reads) {
        let ctx = self.ctx;
        let text = |t: &mut Self, on: bool, offset: i32| {
            on.then(|| {
                let offset = offset as i64;
                (t.pinned_load(ctx, offset), t.pinned_load(ctx, offset + 8))
            })
        };
        self.facts.caller = text(self, reads.caller, CALL_CALLER);
        self.facts.dialed = text(self, reads.dialed, CALL_DIALED);
        self.facts.digits = text(self, reads.digits, CALL_DIGITS);
    }

    /// A field of the call or agent view: aligned, always valid, and
    /// unchanged during a decision, so Cranelift may merge and move loads.
    fn load(&mut self, base: Value, offset: i64) -> Value {
        let flags = MemFlagsData::trusted().with_readonly().with_can_move();
        self.b.ins().load(types::I64, flags, base, offset as i32)
    }

    /// A field of the call or agent view loaded where it stands, in the
    /// entry block. Not marked read-only: Cranelift treats read-only loads
    /// as pure and would move each back to its uses, loading it again in
    /// every rule that its first use does not dominate.
    fn pinned_load(&mut self, base: Value, offset: i64) -> Value {
        self.b
            .ins()
            .load(types::I64, MemFlagsData::trusted(), base, offset as i32)
    }

    fn iconst(&mut self, v: i64) -> Value {
        self.b.ins().iconst(types::I64, v)
    }

    /// An i8 condition as an i64 0 or 1.
    fn widen(&mut self, c: Value) -> Value {
        self.b.ins().uextend(types::I64, c)
    }

    fn translate_time(&mut self, zone: usize, field: TimeField) -> Value {
        let index = time_index(field) as i64;
        let base = self.load(self.ctx, CALL_TIME as i64);
        self.load(base, zone as i64 * TIME_SIZE as i64 + index * 8)
    }

    fn row_slots(&mut self, lookup: usize) -> Value {
        let rows = self.load(self.ctx, CALL_ROWS as i64);
        self.load(rows, lookup as i64 * ROW_SIZE as i64 + 8)
    }

    /// Jumps to `yes` when the condition holds and to `no` otherwise.
    /// `and`, `or` and `not` become control flow ("jumping code") and length
    /// checks of text branch straight to `no`, so no boolean is built and
    /// tested again.
    fn branch(&mut self, n: &Node, yes: Block, no: Block) {
        match n {
            Node::Int(i) => {
                self.b.ins().jump(if *i != 0 { yes } else { no }, &[]);
            }
            Node::Not(x) => self.branch(x, no, yes),
            Node::And(x, y) => {
                let mid = self.b.create_block();
                self.branch(x, mid, no);
                self.b.switch_to_block(mid);
                self.branch(y, yes, no);
            }
            Node::Or(x, y) => {
                let mid = self.b.create_block();
                self.branch(x, yes, mid);
                self.b.switch_to_block(mid);
                self.branch(y, yes, no);
            }
            Node::Call(f) if matches!(self.module.function(*f).body, Body::Bool(_)) => {
                if let Body::Bool(body) = &self.module.function(*f).body {
                    self.branch(body, yes, no);
                }
            }
            Node::TextEq(x, y)
                if matches!(
                    (x.as_ref(), y.as_ref()),
                    (Node::Text(_), _) | (_, Node::Text(_))
                ) =>
            {
                let (s, other) = match (x.as_ref(), y.as_ref()) {
                    (Node::Text(s), other) | (other, Node::Text(s)) => (*s, other),
                    _ => return,
                };
                let (p, len) = self.text(other);
                let bytes = self.strings[s.index()].clone();
                let same_len = self
                    .b
                    .ins()
                    .icmp_imm_s(IntCC::Equal, len, bytes.len() as i64);
                self.then_check(same_len, no);
                self.branch_bytes_equal(p, 0, &bytes, yes, no);
            }
            Node::StartsWith(x, s) => {
                let (p, len) = self.text(x);
                let bytes = self.strings[s.index()].clone();
                let long_enough = self.b.ins().icmp_imm_s(
                    IntCC::UnsignedGreaterThanOrEqual,
                    len,
                    bytes.len() as i64,
                );
                self.then_check(long_enough, no);
                self.branch_bytes_equal(p, 0, &bytes, yes, no);
            }
            Node::InRanges(x, ranges) if sorted(ranges) => {
                let v = self.int(x);
                self.search_ranges(v, ranges, yes, no);
            }
            Node::Matches(x, pat) => {
                let (p, len) = self.text(x);
                let pattern = self.module.pattern(*pat).clone();
                let expected = pattern.plus as i64 + pattern.positions.len() as i64;
                let same_len = self.b.ins().icmp_imm_s(IntCC::Equal, len, expected);
                self.then_check(same_len, no);
                self.branch_pattern(p, &pattern, yes, no);
            }
            _ => {
                let c = self.cond(n);
                self.b.ins().brif(c, yes, &[], no, &[]);
            }
        }
    }

    /// Goes on in a new block when `c` holds, and to `no` otherwise: one
    /// test of jumping code, which leaves at the first that fails.
    fn then_check(&mut self, c: Value, no: Block) {
        let next = self.b.create_block();
        self.b.ins().brif(c, next, &[], no, &[]);
        self.b.switch_to_block(next);
    }

    /// A condition as an `i8` 0 or 1: what branches and `and`/`or` use.
    fn cond(&mut self, n: &Node) -> Value {
        match n {
            Node::Int(i) => self.b.ins().iconst(types::I8, (*i != 0) as i64),
            Node::Not(x) => {
                let c = self.cond(x);
                self.b.ins().bxor_imm_s(c, 1)
            }
            Node::And(x, y) => self.translate_logic(true, x, y),
            Node::Or(x, y) => self.translate_logic(false, x, y),
            Node::Cmp(op, x, y) => {
                let (x, y) = (self.int(x), self.int(y));
                let cc = match op {
                    CmpOp::Eq => IntCC::Equal,
                    CmpOp::Ne => IntCC::NotEqual,
                    CmpOp::Lt => IntCC::SignedLessThan,
                    CmpOp::Le => IntCC::SignedLessThanOrEqual,
                    CmpOp::Gt => IntCC::SignedGreaterThan,
                    CmpOp::Ge => IntCC::SignedGreaterThanOrEqual,
                };
                self.b.ins().icmp(cc, x, y)
            }
            Node::HasBit { mask, bit } => {
                let (mask, bit) = (self.int(mask), self.int(bit));
                let shifted = self.b.ins().ushr(mask, bit);
                let one = self.b.ins().band_imm_s(shifted, 1);
                let set = self.b.ins().icmp_imm_s(IntCC::NotEqual, one, 0);
                let in_range = self.b.ins().icmp_imm_s(IntCC::UnsignedLessThan, bit, 64);
                self.b.ins().band(set, in_range)
            }
            Node::AnyBit(x, bits) => {
                let v = self.int(x);
                let masked = self.b.ins().band_imm_s(v, *bits);
                self.b.ins().icmp_imm_s(IntCC::NotEqual, masked, 0)
            }
            Node::TextEq(x, y) => match (x.as_ref(), y.as_ref()) {
                (Node::Text(s), other) | (other, Node::Text(s)) => {
                    let (p, len) = self.text(other);
                    let bytes = self.strings[s.index()].clone();
                    self.translate_eq_const(p, len, &bytes)
                }
                _ => {
                    let (a, al) = self.text(x);
                    let (c, cl) = self.text(y);
                    let r = self.call_helper(self.helpers.text_eq, &[a, al, c, cl]);
                    self.b.ins().icmp_imm_s(IntCC::NotEqual, r, 0)
                }
            },
            Node::StartsWith(x, s) => {
                let (p, len) = self.text(x);
                let bytes = self.strings[s.index()].clone();
                self.translate_starts_with(p, len, &bytes)
            }
            Node::PrefixOf(x, s) => {
                let (p, len) = self.text(x);
                let (c, cl) = self.text(&Node::Text(*s));
                let r = self.call_helper(self.helpers.prefix_of, &[p, len, c, cl]);
                self.b.ins().icmp_imm_s(IntCC::NotEqual, r, 0)
            }
            Node::Matches(x, pat) => {
                let (p, len) = self.text(x);
                let pattern = self.module.pattern(*pat).clone();
                self.translate_matches(p, len, &pattern)
            }
            Node::InInts(x, list) => {
                let v = self.int(x);
                let mut acc = self.b.ins().iconst(types::I8, 0);
                for &item in list {
                    let c = self.b.ins().icmp_imm_s(IntCC::Equal, v, item);
                    acc = self.b.ins().bor(acc, c);
                }
                acc
            }
            Node::InTexts(x, list) => {
                let (p, len) = self.text(x);
                let mut acc = self.b.ins().iconst(types::I8, 0);
                for s in list {
                    let bytes = self.strings[s.index()].clone();
                    let c = self.translate_eq_const(p, len, &bytes);
                    acc = self.b.ins().bor(acc, c);
                }
                acc
            }
            Node::InRanges(x, ranges) if searchable(ranges) => {
                let v = self.int(x);
                let (yes, no) = (self.b.create_block(), self.b.create_block());
                let merge = self.b.create_block();
                self.b.append_block_param(merge, types::I8);
                self.search_ranges(v, ranges, yes, no);
                for (block, value) in [(yes, 1), (no, 0)] {
                    self.b.switch_to_block(block);
                    let c = self.b.ins().iconst(types::I8, value);
                    self.b.ins().jump(merge, &[BlockArg::Value(c)]);
                }
                self.b.switch_to_block(merge);
                self.b.block_params(merge)[0]
            }
            Node::InRanges(x, ranges) => {
                let v = self.int(x);
                self.any_range(v, ranges)
            }
            // Hours and calendar checks are small and never recursive:
            // inline them, so their loads merge with the caller's.
            Node::Call(f) => match &self.module.function(*f).body {
                Body::Bool(n) => self.cond(n),
                _ => {
                    let v = self.int(n);
                    self.b.ins().icmp_imm_s(IntCC::NotEqual, v, 0)
                }
            },
            // Integers used as conditions (boolean lookup fields, `found`).
            _ => {
                let v = self.int(n);
                self.b.ins().icmp_imm_s(IntCC::NotEqual, v, 0)
            }
        }
    }

    /// An integer (conditions as 0 or 1).
    fn int(&mut self, n: &Node) -> Value {
        match n {
            Node::Int(i) => self.iconst(*i),
            Node::Time(z, f) => self.translate_time(z.index(), *f),
            Node::Found(l) => {
                let rows = self.load(self.ctx, CALL_ROWS as i64);
                self.load(rows, l.index() as i64 * ROW_SIZE as i64)
            }
            Node::Field(l, i) => {
                let slots = self.row_slots(l.index());
                self.load(slots, *i as i64 * SLOT_SIZE as i64)
            }
            Node::QueueStat(q, s) => {
                let base = self.load(self.ctx, CALL_QUEUES as i64);
                self.load(base, q.index() as i64 * QUEUE_SIZE as i64 + stat_offset(*s))
            }
            Node::Switch(s) => {
                let base = self.load(self.ctx, CALL_SWITCHES as i64);
                self.load(base, s.index() as i64 * 8)
            }
            Node::Agent(a) => self.load(self.agent, AGENT_ATTRS as i64 + attr_index(*a) as i64 * 8),
            Node::Skill(s) => {
                let skills = self.load(self.agent, AGENT_SKILLS as i64);
                self.load(skills, s.index() as i64 * 8)
            }
            Node::Call(f) => match &self.module.function(*f).body {
                Body::Int(n) => self.int(n),
                Body::Bool(n) => {
                    let c = self.cond(n);
                    self.widen(c)
                }
                Body::FirstMatch(_) => {
                    let callee = self
                        .jit
                        .declare_func_in_func(self.ids[f.index()], self.b.func);
                    let call = self.b.ins().call(callee, &[self.ctx, self.agent]);
                    self.b.inst_results(call)[0]
                }
            },
            Node::Arith(op, x, y) => {
                let (x, y) = (self.int(x), self.int(y));
                self.translate_arith(*op, x, y)
            }
            Node::Neg(x) => {
                let v = self.int(x);
                self.b.ins().ineg(v)
            }
            Node::Text(_) | Node::Caller | Node::Dialed | Node::Digits | Node::FieldText(..) => {
                self.iconst(0)
            }
            // Everything else is a condition.
            _ => {
                let c = self.cond(n);
                self.widen(c)
            }
        }
    }

    /// `and`/`or`, evaluating the right side only when it matters.
    /// Whether `v` is in one of the ranges, as an `i8`: one unsigned
    /// compare per range, `lo <= v < hi` being `v - lo < hi - lo`.
    fn any_range(&mut self, v: Value, ranges: &[(i64, i64)]) -> Value {
        let mut acc = self.b.ins().iconst(types::I8, 0);
        for &(lo, hi) in ranges {
            let shifted = self.b.ins().iadd_imm_s(v, lo.wrapping_neg());
            let c = self
                .b
                .ins()
                .icmp_imm_s(IntCC::UnsignedLessThan, shifted, hi.wrapping_sub(lo));
            acc = self.b.ins().bor(acc, c);
        }
        acc
    }

    /// Binary search over sorted, disjoint ranges (the dates of holidays by
    /// rule run to hundreds): halves until at most `LINEAR_RANGES` are
    /// left, then tests those without branching.
    fn search_ranges(&mut self, v: Value, ranges: &[(i64, i64)], yes: Block, no: Block) {
        if ranges.len() <= LINEAR_RANGES {
            let c = self.any_range(v, ranges);
            self.b.ins().brif(c, yes, &[], no, &[]);
            return;
        }
        let (low, high) = ranges.split_at(ranges.len() / 2);
        let below = self.b.ins().icmp_imm_s(IntCC::SignedLessThan, v, high[0].0);
        let (left, right) = (self.b.create_block(), self.b.create_block());
        self.b.ins().brif(below, left, &[], right, &[]);
        self.b.switch_to_block(left);
        self.search_ranges(v, low, yes, no);
        self.b.switch_to_block(right);
        self.search_ranges(v, high, yes, no);
    }

    fn translate_logic(&mut self, and: bool, x: &Node, y: &Node) -> Value {
        let xc = self.cond(x);
        let rhs = self.b.create_block();
        let merge = self.b.create_block();
        self.b.append_block_param(merge, types::I8);
        let short = [BlockArg::Value(xc)];
        if and {
            self.b.ins().brif(xc, rhs, &[], merge, &short);
        } else {
            self.b.ins().brif(xc, merge, &short, rhs, &[]);
        }
        self.b.switch_to_block(rhs);
        let yc = self.cond(y);
        self.b.ins().jump(merge, &[BlockArg::Value(yc)]);
        self.b.switch_to_block(merge);
        self.b.block_params(merge)[0]
    }

    /// Wrapping arithmetic; division and remainder by zero give 0, and
    /// `i64::MIN / -1` wraps instead of trapping.
    fn translate_arith(&mut self, op: ArithOp, x: Value, y: Value) -> Value {
        match op {
            ArithOp::Add => self.b.ins().iadd(x, y),
            ArithOp::Sub => self.b.ins().isub(x, y),
            ArithOp::Mul => self.b.ins().imul(x, y),
            ArithOp::Div | ArithOp::Rem => {
                let zero = self.iconst(0);
                let one = self.iconst(1);
                let is_zero = self.b.ins().icmp_imm_s(IntCC::Equal, y, 0);
                let is_minus_one = self.b.ins().icmp_imm_s(IntCC::Equal, y, -1);
                let special = self.b.ins().bor(is_zero, is_minus_one);
                let safe = self.b.ins().select(special, one, y);
                if op == ArithOp::Div {
                    let q = self.b.ins().sdiv(x, safe);
                    let negated = self.b.ins().ineg(x);
                    let q = self.b.ins().select(is_minus_one, negated, q);
                    self.b.ins().select(is_zero, zero, q)
                } else {
                    let r = self.b.ins().srem(x, safe);
                    self.b.ins().select(special, zero, r)
                }
            }
        }
    }

    /// A text value as (pointer, length).
    fn text(&mut self, n: &Node) -> (Value, Value) {
        let at = |t: &mut Self, base: Value, offset: i64| {
            (t.load(base, offset), t.load(base, offset + 8))
        };
        match n {
            Node::Text(s) => {
                let bytes = &self.strings[s.index()];
                let (ptr, len) = (bytes.as_ptr() as i64, bytes.len() as i64);
                (self.iconst(ptr), self.iconst(len))
            }
            Node::Caller => match self.facts.caller {
                Some(v) => v,
                None => at(self, self.ctx, CALL_CALLER as i64),
            },
            Node::Dialed => match self.facts.dialed {
                Some(v) => v,
                None => at(self, self.ctx, CALL_DIALED as i64),
            },
            Node::Digits => match self.facts.digits {
                Some(v) => v,
                None => at(self, self.ctx, CALL_DIGITS as i64),
            },
            Node::FieldText(l, i) => {
                let slots = self.row_slots(l.index());
                at(self, slots, *i as i64 * SLOT_SIZE as i64 + 8)
            }
            _ => (self.iconst(0), self.iconst(0)),
        }
    }

    fn call_helper(&mut self, helper: ClifFuncId, args: &[Value]) -> Value {
        let callee = self.jit.declare_func_in_func(helper, self.b.func);
        let call = self.b.ins().call(callee, args);
        self.b.inst_results(call)[0]
    }

    /// Runs `then` (which yields a 0/1 value) only when `cond` holds;
    /// otherwise the result is 0. Guards loads that need a length check.
    fn guarded(&mut self, cond: Value, then: impl FnOnce(&mut Self) -> Value) -> Value {
        let body = self.b.create_block();
        let merge = self.b.create_block();
        self.b.append_block_param(merge, types::I8);
        let zero = [BlockArg::Value(cond)];
        self.b.ins().brif(cond, body, &[], merge, &zero);
        self.b.switch_to_block(body);
        let v = then(self);
        self.b.ins().jump(merge, &[BlockArg::Value(v)]);
        self.b.switch_to_block(merge);
        self.b.block_params(merge)[0]
    }

    fn translate_eq_const(&mut self, p: Value, len: Value, bytes: &[u8]) -> Value {
        let same_len = self
            .b
            .ins()
            .icmp_imm_s(IntCC::Equal, len, bytes.len() as i64);
        if bytes.is_empty() {
            return same_len;
        }
        self.guarded(same_len, |t| t.bytes_equal(p, bytes))
    }

    fn translate_starts_with(&mut self, p: Value, len: Value, bytes: &[u8]) -> Value {
        if bytes.is_empty() {
            return self.b.ins().iconst(types::I8, 1);
        }
        let long_enough =
            self.b
                .ins()
                .icmp_imm_s(IntCC::UnsignedGreaterThanOrEqual, len, bytes.len() as i64);
        self.guarded(long_enough, |t| t.bytes_equal(p, bytes))
    }

    /// Compares the first `bytes.len()` bytes at `p` with `bytes`.
    fn bytes_equal(&mut self, p: Value, bytes: &[u8]) -> Value {
        self.bytes_equal_at(p, 0, bytes)
    }

    /// Loads `width` bytes at `p + offset` as an integer. Text bytes are
    /// valid once the length was checked, but unaligned, and the load must
    /// not move above that check.
    fn load_bytes(&mut self, p: Value, offset: usize, width: usize) -> Value {
        let flags = MemFlagsData::new().with_notrap().with_readonly();
        match width {
            8 => self.b.ins().load(types::I64, flags, p, offset as i32),
            4 => self.b.ins().uload32(flags, p, offset as i32),
            2 => self.b.ins().uload16(types::I64, flags, p, offset as i32),
            _ => self.b.ins().uload8(types::I64, flags, p, offset as i32),
        }
    }

    /// Compares the bytes at `p + base` with `bytes`, using the widest loads
    /// that stay within them (the last chunk may overlap the one before).
    fn bytes_equal_at(&mut self, p: Value, base: usize, bytes: &[u8]) -> Value {
        let mut acc = self.b.ins().iconst(types::I8, 1);
        for (off, width) in chunks(bytes.len()) {
            let mut chunk = [0u8; 8];
            chunk[..width].copy_from_slice(&bytes[off..off + width]);
            let expected = u64::from_le_bytes(chunk) as i64;
            let got = self.load_bytes(p, base + off, width);
            let c = self.b.ins().icmp_imm_s(IntCC::Equal, got, expected);
            acc = self.b.ins().band(acc, c);
        }
        acc
    }

    /// Whether the `n` bytes at `p + base` are all ASCII digits, several at
    /// a time: a byte is a digit when its high nibble is 3 and adding 6
    /// keeps it so (no carry can cross bytes once the first test holds).
    fn all_digits_at(&mut self, p: Value, base: usize, n: usize) -> Value {
        let mut acc = self.b.ins().iconst(types::I8, 1);
        for (off, width) in chunks(n) {
            let repeat = |byte: u8| u64::from_le_bytes([byte; 8]) >> (64 - 8 * width as u32);
            let v = self.load_bytes(p, base + off, width);
            let high = self.b.ins().band_imm_s(v, repeat(0xF0) as i64);
            let first = self
                .b
                .ins()
                .icmp_imm_s(IntCC::Equal, high, repeat(0x30) as i64);
            let shifted = self.b.ins().iadd_imm_s(v, repeat(0x06) as i64);
            let high = self.b.ins().band_imm_s(shifted, repeat(0xF0) as i64);
            let second = self
                .b
                .ins()
                .icmp_imm_s(IntCC::Equal, high, repeat(0x30) as i64);
            let both = self.b.ins().band(first, second);
            acc = self.b.ins().band(acc, both);
        }
        acc
    }

    /// Jumps to `yes` when the bytes at `p + base` are `bytes`, leaving
    /// for `no` at the first chunk that differs.
    fn branch_bytes_equal(&mut self, p: Value, base: usize, bytes: &[u8], yes: Block, no: Block) {
        let mut last = None;
        self.chunks_equal(p, base, bytes, &mut last, no);
        self.last_check(last, yes, no);
    }

    /// Tests the bytes at `p + base` against `bytes` chunk by chunk: each
    /// test but the last still to make goes on or leaves for `no`; the last
    /// is left in `last` for the caller to branch on.
    fn chunks_equal(
        &mut self,
        p: Value,
        base: usize,
        bytes: &[u8],
        last: &mut Option<Value>,
        no: Block,
    ) {
        for (off, width) in chunks(bytes.len()) {
            if let Some(c) = last.take() {
                self.then_check(c, no);
            }
            let mut chunk = [0u8; 8];
            chunk[..width].copy_from_slice(&bytes[off..off + width]);
            let expected = u64::from_le_bytes(chunk) as i64;
            let got = self.load_bytes(p, base + off, width);
            *last = Some(self.b.ins().icmp_imm_s(IntCC::Equal, got, expected));
        }
    }

    /// Ends a chain of tests: the last one branches to `yes` or `no`
    /// itself, so no block is made only to jump on.
    fn last_check(&mut self, last: Option<Value>, yes: Block, no: Block) {
        match last {
            Some(c) => self.b.ins().brif(c, yes, &[], no, &[]),
            None => self.b.ins().jump(yes, &[]),
        };
    }

    /// A dial pattern on a number of its length, as jumping code: the
    /// fixed digits first, several bytes per comparison, leaving for `no`
    /// at the first chunk that differs (they tell most numbers apart);
    /// then the digit classes together.
    fn branch_pattern(&mut self, p: Value, pattern: &Pattern, yes: Block, no: Block) {
        let want = pattern_bytes(pattern);
        let mut last = None;
        let mut i = 0;
        while i < want.len() {
            let run = want[i..].iter().take_while(|w| w.is_ok()).count();
            if run == 0 {
                i += 1;
                continue;
            }
            let bytes: Vec<u8> = want[i..i + run].iter().filter_map(|w| w.ok()).collect();
            self.chunks_equal(p, i, &bytes, &mut last, no);
            i += run;
        }
        // The classes, in one test: a number that has the fixed digits
        // mostly matches, and few numbers get this far, so the test is
        // laid out after the hot path.
        if want.iter().any(|w| w.is_err()) {
            if let Some(c) = last.take() {
                self.then_check(c, no);
                let block = self.b.current_block().expect("a block");
                self.b.set_cold_block(block);
            }
            last = Some(self.classes_at(p, &want));
        }
        self.last_check(last, yes, no);
    }

    /// Whether every class position of `want` holds a digit of its class:
    /// runs of `X` several bytes at a time, other classes a byte each.
    fn classes_at(&mut self, p: Value, want: &[Result<u8, u16>]) -> Value {
        let mut acc = self.b.ins().iconst(types::I8, 1);
        let mut i = 0;
        while i < want.len() {
            let run = want[i..]
                .iter()
                .take_while(|w| **w == Err(ANY_DIGIT))
                .count();
            let ok = match want[i] {
                Ok(_) => {
                    i += 1;
                    continue;
                }
                Err(ANY_DIGIT) => self.all_digits_at(p, i, run),
                Err(set) => self.digit_in(p, i, set),
            };
            acc = self.b.ins().band(acc, ok);
            i += run.max(1);
        }
        acc
    }

    /// Whether the byte at `p + at` is a digit of `set`.
    fn digit_in(&mut self, p: Value, at: usize, set: u16) -> Value {
        let byte = self.load_bytes(p, at, 1);
        let (lo, hi) = (set.trailing_zeros() as i64, 15 - set.leading_zeros() as i64);
        let contiguous = (set >> lo).count_ones() as i64 == hi - lo + 1;
        let d = self.b.ins().iadd_imm_s(byte, -(b'0' as i64) - lo);
        let in_range = self
            .b
            .ins()
            .icmp_imm_s(IntCC::UnsignedLessThan, d, hi - lo + 1);
        if contiguous {
            in_range
        } else {
            let mask = self.iconst((set >> lo) as i64);
            let shifted = self.b.ins().ushr(mask, d);
            let bit = self.b.ins().band_imm_s(shifted, 1);
            let set = self.b.ins().icmp_imm_s(IntCC::NotEqual, bit, 0);
            self.b.ins().band(in_range, set)
        }
    }

    /// A dial pattern, inline: the length first, then runs of fixed digits
    /// compared several bytes at a time, runs of `X` tested several bytes at
    /// a time, and the other classes one byte each.
    fn translate_matches(&mut self, p: Value, len: Value, pattern: &Pattern) -> Value {
        let expected = pattern.plus as i64 + pattern.positions.len() as i64;
        let same_len = self.b.ins().icmp_imm_s(IntCC::Equal, len, expected);
        self.guarded(same_len, |t| t.pattern_body(p, pattern))
    }

    /// The bytes of a number of the pattern's length against the pattern:
    /// runs of fixed digits compared several bytes at a time, runs of `X`
    /// tested several bytes at a time, other classes one byte each.
    fn pattern_body(&mut self, p: Value, pattern: &Pattern) -> Value {
        let want = pattern_bytes(pattern);
        let mut acc = self.b.ins().iconst(types::I8, 1);
        let mut i = 0;
        while i < want.len() {
            let same_kind = |w: &Result<u8, u16>| {
                matches!(
                    (w, &want[i]),
                    (Ok(_), Ok(_)) | (Err(ANY_DIGIT), Err(ANY_DIGIT))
                )
            };
            let run = want[i..].iter().take_while(|w| same_kind(w)).count().max(1);
            let ok = match want[i] {
                Ok(_) => {
                    let bytes: Vec<u8> = want[i..i + run].iter().filter_map(|w| w.ok()).collect();
                    self.bytes_equal_at(p, i, &bytes)
                }
                Err(ANY_DIGIT) => self.all_digits_at(p, i, run),
                Err(set) => self.digit_in(p, i, set),
            };
            acc = self.b.ins().band(acc, ok);
            i += run;
        }
        acc
    }
}

/// The (offset, width) loads that cover `n` bytes with as few loads as
/// possible, none reaching past the `n` bytes.
fn chunks(n: usize) -> Vec<(usize, usize)> {
    let width = [8, 4, 2, 1].into_iter().find(|w| *w <= n).unwrap_or(1);
    let mut out: Vec<(usize, usize)> = (0..n / width).map(|i| (i * width, width)).collect();
    if !n.is_multiple_of(width) {
        out.push((n - width, width));
    }
    out
}

/// Range lists up to this long are tested without branching; longer
/// sorted ones are halved first. A test without branches is pure, so
/// Cranelift's value numbering computes it once for every later rule that
/// asks the same hours or calendar, where a binary search's blocks belong
/// to the rule that made them and are compiled and run again in each; and
/// compilation pays for every block. At 8, the 500-rule route (calendars
/// of 12 dates) compiled with 19 % more instructions and ran 4,658
/// instructions per decision instead of 3,136. Halving down to three
/// ranges would compile slower still.
const LINEAR_RANGES: usize = 16;

/// Any digit, as a pattern's set of digits.
const ANY_DIGIT: u16 = 0b11_1111_1111;

/// Each byte of a number a pattern matches: the one it must be, or the
/// digits it may be.
fn pattern_bytes(pattern: &Pattern) -> Vec<Result<u8, u16>> {
    let mut want = Vec::with_capacity(pattern.positions.len() + 1);
    if pattern.plus {
        want.push(Ok(b'+'));
    }
    want.extend(pattern.positions.iter().map(|&set| {
        if set.count_ones() == 1 {
            Ok(b'0' + set.trailing_zeros() as u8)
        } else {
            Err(set)
        }
    }));
    want
}

/// Ranges that are each non-empty, sorted and disjoint: what the IR's
/// range lists are, checked before code relies on it.
fn sorted(ranges: &[(i64, i64)]) -> bool {
    ranges.iter().all(|r| r.0 < r.1) && ranges.windows(2).all(|w| w[0].1 <= w[1].0)
}

/// Long range lists that are sorted and disjoint are binary-searched.
fn searchable(ranges: &[(i64, i64)]) -> bool {
    ranges.len() > LINEAR_RANGES && sorted(ranges)
}

/// Where a statistic sits in a queue's [`QueueStats`], in bytes.
fn stat_offset(stat: QueueStat) -> i64 {
    let offset = match stat {
        QueueStat::Waiting => std::mem::offset_of!(QueueStats, waiting),
        QueueStat::Available => std::mem::offset_of!(QueueStats, available),
        QueueStat::Agents => std::mem::offset_of!(QueueStats, agents),
        QueueStat::LongestWait => std::mem::offset_of!(QueueStats, longest_wait_ms),
        QueueStat::ExpectedWait => std::mem::offset_of!(QueueStats, expected_wait_ms),
    };
    offset as i64
}
