//! The call and the agent as generated code sees them: `#[repr(C)]`
//! views of the facts, and the byte offsets `translate` reads them at,
//! checked against the structs at compile time.

use crate::facts::{LocalTime, QueueStats};

/// Text handed to generated code: a pointer and a length in bytes.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct TextView {
    ptr: *const u8,
    len: usize,
}

impl TextView {
    pub(super) fn of(s: &str) -> TextView {
        TextView {
            ptr: s.as_ptr(),
            len: s.len(),
        }
    }
}

/// One field of a lookup row.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub(super) struct SlotView {
    pub(super) int: i64,
    pub(super) text: TextView,
}

/// One lookup: whether it found a row, and the row's fields (zeros and
/// empty text when it did not, so generated code never reads past them).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub(super) struct RowView {
    pub(super) found: i64,
    pub(super) slots: *const SlotView,
}

/// The call as generated code sees it. Offsets are fixed by `translate`.
#[repr(C)]
#[derive(Debug)]
pub(super) struct CallView {
    pub(super) caller: TextView,
    pub(super) dialed: TextView,
    pub(super) digits: TextView,
    pub(super) time: *const LocalTime,
    pub(super) rows: *const RowView,
    pub(super) queues: *const QueueStats,
    /// One `i64` per switch: 1 on, 0 off.
    pub(super) switches: *const i64,
}

/// An agent as queue functions see it.
#[repr(C)]
#[derive(Debug)]
pub(super) struct AgentView {
    pub(super) skills: *const i64,
    pub(super) attrs: [i64; 3],
}

// Byte offsets used by the translator; checked against the structs below.
pub(super) const CALL_CALLER: i32 = 0;
pub(super) const CALL_DIALED: i32 = 16;
pub(super) const CALL_DIGITS: i32 = 32;
pub(super) const CALL_TIME: i32 = 48;
pub(super) const CALL_ROWS: i32 = 56;
pub(super) const CALL_QUEUES: i32 = 64;
pub(super) const CALL_SWITCHES: i32 = 72;
pub(super) const ROW_SIZE: i32 = 16;
pub(super) const SLOT_SIZE: i32 = 24;
pub(super) const TIME_SIZE: i32 = 48;
pub(super) const QUEUE_SIZE: i32 = 40;
pub(super) const AGENT_SKILLS: i32 = 0;
pub(super) const AGENT_ATTRS: i32 = 8;

const _: () = {
    assert!(std::mem::offset_of!(CallView, dialed) == CALL_DIALED as usize);
    assert!(std::mem::offset_of!(CallView, digits) == CALL_DIGITS as usize);
    assert!(std::mem::offset_of!(CallView, time) == CALL_TIME as usize);
    assert!(std::mem::offset_of!(CallView, rows) == CALL_ROWS as usize);
    assert!(std::mem::offset_of!(CallView, queues) == CALL_QUEUES as usize);
    assert!(std::mem::offset_of!(CallView, switches) == CALL_SWITCHES as usize);
    assert!(std::mem::size_of::<RowView>() == ROW_SIZE as usize);
    assert!(std::mem::size_of::<SlotView>() == SLOT_SIZE as usize);
    assert!(std::mem::size_of::<LocalTime>() == TIME_SIZE as usize);
    assert!(std::mem::size_of::<QueueStats>() == QUEUE_SIZE as usize);
    assert!(std::mem::offset_of!(AgentView, attrs) == AGENT_ATTRS as usize);
    assert!(CALL_CALLER == 0 && AGENT_SKILLS == 0);
};
