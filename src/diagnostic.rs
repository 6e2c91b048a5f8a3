//! The one diagnostic type of the pipeline and the registry of stable codes.
//!
//! A diagnostic knows its code, a primary location with a label, further
//! labels and a help line. It does not know how it will be shown: the CLI
//! renders it with miette or as JSON (`cli::render`).

use crate::source::{FileId, Loc, Span};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Error,
}

macro_rules! codes {
    ($($variant:ident = $code:literal $name:literal $sev:ident: $summary:literal;)*) => {
        /// Every diagnostic code the checker can emit. Codes are stable: a
        /// code is never reused for another meaning.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Code {
            $($variant),*
        }

        impl Code {
            pub const ALL: &'static [Code] = &[$(Code::$variant),*];

            /// The stable code, such as `D2001`.
            pub fn as_str(self) -> &'static str {
                match self { $(Code::$variant => $code),* }
            }

            /// A short kebab-case name, such as `unknown-name`.
            pub fn name(self) -> &'static str {
                match self { $(Code::$variant => $name),* }
            }

            pub fn severity(self) -> Severity {
                match self { $(Code::$variant => Severity::$sev),* }
            }

            /// One line saying what the code reports.
            pub fn summary(self) -> &'static str {
                match self { $(Code::$variant => $summary),* }
            }

            pub fn parse(s: &str) -> Option<Code> {
                Code::ALL.iter().copied().find(|c| c.as_str() == s || c.name() == s)
            }
        }
    };
}

codes! {
    // D1xxx: syntax and loading.
    SyntaxError = "D1001" "syntax-error" Error: "the text does not follow the grammar";
    UnterminatedString = "D1002" "unterminated-string" Error: "a string is not closed before the end of its line";
    UnbalancedBraces = "D1003" "unbalanced-braces" Error: "a `{` is never closed, or a `}` closes nothing";
    IncludeNotFound = "D1004" "include-not-found" Error: "an included file cannot be read";
    TooComplex = "D1005" "too-complex" Error: "an expression is nested too deeply or is too long";
    UnreadableFile = "D1006" "unreadable-file" Error: "a script file is not UTF-8 text, or a file named on the command line cannot be read";
    IncludeOutside = "D1007" "include-outside" Error: "an include names a file outside the script's folder";

    // D2xxx: names and types.
    UnknownName = "D2001" "unknown-name" Error: "a name does not refer to any declaration";
    DuplicateDeclaration = "D2002" "duplicate-declaration" Error: "two declarations of the same kind share a name";
    TypeMismatch = "D2003" "type-mismatch" Error: "a value has the wrong type for where it is used";
    UnknownField = "D2004" "unknown-field" Error: "a field or property does not exist on the value";
    UnguardedField = "D2005" "unguarded-field" Error: "a lookup field is read without a `known` guard";
    WrongKind = "D2006" "wrong-kind" Error: "a name refers to a declaration of another kind";
    AmbiguousValue = "D2007" "ambiguous-value" Error: "an enumerated value belongs to several skills";
    AgentOutsideQueue = "D2008" "agent-outside-queue" Error: "an agent attribute or skill is used outside a queue's agent selection";
    UnknownTimezone = "D2009" "unknown-timezone" Error: "a time zone is not a known IANA name";
    BadCall = "D2010" "bad-call" Error: "an unknown function, or a function given the wrong arguments";
    UnknownOption = "D2011" "unknown-option" Error: "a setting has a value that is not one of its options";

    // D3xxx: semantics.
    NonExhaustiveRoute = "D3001" "non-exhaustive-route" Error: "a route has no `otherwise` and its rules do not cover every call";
    MissingTerminal = "D3002" "missing-terminal" Error: "an action list does not end with a terminal action";
    ActionAfterTerminal = "D3003" "action-after-terminal" Error: "an action follows a terminal action and would never run";
    DuplicateKey = "D3004" "duplicate-key" Error: "a menu has two entries for the same key";
    KeyPrefix = "D3005" "key-prefix" Error: "a menu key is a prefix of a longer key";
    InvalidTime = "D3006" "invalid-time" Error: "a time of day does not exist";
    InvalidDate = "D3007" "invalid-date" Error: "a date does not exist";
    InvalidDuration = "D3008" "invalid-duration" Error: "a duration is malformed, zero where it must not be, or too long";
    EmptyHours = "D3009" "empty-hours" Error: "an hours declaration is never open";
    RelaxationOrder = "D3010" "relaxation-order" Error: "queue steps are not in increasing time order";
    RouteCycle = "D3011" "route-cycle" Error: "routes lead to each other in a loop that never reaches a caller-facing action";
    EntryCollision = "D3012" "entry-collision" Error: "two entries match the same dialed numbers and neither is more specific";
    ScoreSkillNotRequired = "D3013" "score-skill-not-required" Error: "a queue's score uses a skill its `require` does not ask for";
    InvalidNumber = "D3014" "invalid-number" Error: "a phone number or dial pattern is malformed";
    MenuActionOutsideMenu = "D3015" "menu-action-outside-menu" Error: "`repeat` or `back` is used where there is no menu";
    EmptyTimeRange = "D3016" "empty-time-range" Error: "a time or date range is empty";
    StrategyConflict = "D3017" "strategy-conflict" Error: "queue settings contradict each other";
    MissingTimezone = "D3018" "missing-timezone" Error: "the script uses time but declares no time zone";
    InvalidTest = "D3019" "invalid-test" Error: "a test block is incomplete or cannot run";
    OutOfRange = "D3020" "out-of-range" Error: "a number is outside the range its setting allows";
    MenuShape = "D3021" "menu-shape" Error: "a menu offers the caller nothing, or mixes keys with digit collection";
    DivisionByZero = "D3022" "division-by-zero" Error: "an expression divides by zero";
    GroupMembers = "D3023" "group-members" Error: "a hunt group has no members or lists one twice";
    InvalidKey = "D3024" "invalid-key" Error: "a menu key or a test's key press is not a key of a phone keypad";
    DuplicateSetting = "D3025" "duplicate-setting" Error: "a setting is given twice in one declaration";
    LookupSource = "D3026" "lookup-source" Error: "a lookup's source file is missing or lacks a declared column";
    ImpossibleExpectation = "D3027" "impossible-expectation" Error: "a test expects something its own lines rule out";
    RouteChain = "D3028" "route-chain" Error: "routes hand a call along a chain longer than a call may pass through";
    InvalidHolidayRule = "D3029" "invalid-holiday-rule" Error: "a calendar's holiday rule names no day (a week, month or Easter offset out of range)";

    // D4xxx: warnings.
    Unused = "D4001" "unused" Warning: "a declaration is never used";
    OverlappingHours = "D4002" "overlapping-hours" Warning: "two lines of one hours declaration cover the same time";
    UnreachableRule = "D4003" "unreachable-rule" Warning: "a rule can never fire: earlier rules catch every call it would, or its condition never holds";
    MissingPrompt = "D4004" "missing-prompt" Warning: "a prompt has no audio file in the prompts folder";
    KeyLikeComment = "D4005" "key-like-comment" Warning: "a comment looks like a `#` menu key";
    DuplicateCalendarDay = "D4006" "duplicate-calendar-day" Warning: "a calendar lists the same day twice";
    UnreachableQueueStep = "D4007" "unreachable-queue-step" Warning: "a queue step comes after the call has already left the queue";
    BackWithoutPrevious = "D4008" "back-without-previous" Warning: "`back` is used in a menu that no other menu leads to";
    UnmatchableNumber = "D4009" "unmatchable-number" Warning: "a number, pattern or lookup key is in national format and can never match a call";
    NowInOtherZone = "D4010" "now-in-other-zone" Warning: "`now` is read in the script's zone inside a file that declares another zone";
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A labelled location.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Label {
    pub loc: Loc,
    pub message: String,
}

/// A problem found in a script.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub code: Code,
    pub message: String,
    /// Where the problem is, with a short label.
    pub primary: Label,
    /// Other places that explain it (the first declaration of a duplicate, ...).
    pub labels: Vec<Label>,
    /// What to do about it.
    pub help: String,
}

impl Diagnostic {
    pub fn new(code: Code, file: FileId, span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            code,
            message: message.into(),
            primary: Label {
                loc: Loc::new(file, span),
                message: String::new(),
            },
            labels: Vec::new(),
            help: String::new(),
        }
    }

    pub fn at(code: Code, loc: Loc, message: impl Into<String>) -> Diagnostic {
        Diagnostic::new(code, loc.file, loc.span, message)
    }

    /// The label on the primary span.
    pub fn label(mut self, message: impl Into<String>) -> Diagnostic {
        self.primary.message = message.into();
        self
    }

    /// A further labelled location.
    pub fn with(mut self, loc: Loc, message: impl Into<String>) -> Diagnostic {
        self.labels.push(Label {
            loc,
            message: message.into(),
        });
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = help.into();
        self
    }

    pub fn severity(&self) -> Severity {
        self.code.severity()
    }

    pub fn is_error(&self) -> bool {
        self.severity() == Severity::Error
    }
}

/// Sorts diagnostics by file and position so output is stable.
pub fn sort(diagnostics: &mut [Diagnostic]) {
    diagnostics.sort_by(|a, b| {
        (a.primary.loc, a.code, &a.message).cmp(&(b.primary.loc, b.code, &b.message))
    });
}

/// "did you mean `x`?" for the candidate closest to `name`, if any is close.
pub fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .filter(|c| *c != name)
        .map(|c| (strsim::jaro_winkler(name, c), c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}
