//! Loading a script: its files and their `include`s, the lookup sources and
//! the prompts folder, read through a [`FileSystem`] so that the pipeline
//! itself does no I/O (the CLI passes the real file system, tests a map).
//!
//! One [`Loader`] can load several scripts that share files; every file is
//! read and parsed once, so its diagnostics are reported once.
//!
//! Only regular files of at most [`MAX_FILE_SIZE`] bytes are read (the kind
//! is checked before opening, since opening a FIFO blocks); an include stays
//! inside the script's folder unless the caller allows more; includes are
//! followed with a queue, so a chain of any depth cannot exhaust the stack.

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};
use std::io;
use std::path::{Component, Path, PathBuf};

use crate::check::{self, SourceInfo};
use crate::checked::Program;
use crate::diagnostic::{Code, Diagnostic};
use crate::source::{FileId, Loc, SourceMap, Span};
use crate::syntax::{self, ast};

/// The largest file the loader reads, script or lookup source: 8 MiB.
/// Real scripts are a few hundred kilobytes at most; the limit keeps a
/// mistaken path (a log, a disk image, `/dev/zero`) from filling memory.
pub const MAX_FILE_SIZE: u64 = 8 * 1024 * 1024;

/// What a path names, as found without opening it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    /// A regular file and the size its metadata gives (files under `/proc`
    /// say 0 and still have content, so reading is bounded anyway).
    Regular {
        len: u64,
    },
    Directory,
    Fifo,
    Socket,
    CharDevice,
    BlockDevice,
    Other,
}

impl FileKind {
    /// "a FIFO", "a folder", ... for messages.
    pub fn describe(self) -> &'static str {
        match self {
            FileKind::Regular { .. } => "a regular file",
            FileKind::Directory => "a folder",
            FileKind::Fifo => "a FIFO (named pipe)",
            FileKind::Socket => "a socket",
            FileKind::CharDevice => "a character device",
            FileKind::BlockDevice => "a block device",
            FileKind::Other => "a special file",
        }
    }
}

/// The file access the loader needs.
pub trait FileSystem {
    /// What is at a path (following symbolic links), without opening it:
    /// opening a FIFO blocks until someone writes to it.
    fn kind(&self, path: &Path) -> io::Result<FileKind>;
    /// At most `limit` bytes from the start of a regular file.
    fn read(&self, path: &Path, limit: u64) -> io::Result<Vec<u8>>;
    fn exists(&self, path: &Path) -> bool;
    /// A canonical form of the path, so one file reached two ways is one file.
    fn canonical(&self, path: &Path) -> PathBuf;
}

/// Why a file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("{}", io_reason(.0))]
    Io(io::Error),
    #[error("it is {}, not a regular file", .0.describe())]
    NotRegular(FileKind),
    #[error("it is larger than {} MiB, the limit for a file", MAX_FILE_SIZE >> 20)]
    TooLarge,
}

impl From<io::Error> for ReadError {
    fn from(e: io::Error) -> ReadError {
        ReadError::Io(e)
    }
}

/// Reads a regular file of at most [`MAX_FILE_SIZE`] bytes. The kind is
/// checked before the file is opened, and the read stops one byte past the
/// limit, whatever the metadata said.
pub fn read_bytes(fs: &dyn FileSystem, path: &Path) -> Result<Vec<u8>, ReadError> {
    match fs.kind(path)? {
        FileKind::Regular { len } if len > MAX_FILE_SIZE => Err(ReadError::TooLarge),
        FileKind::Regular { .. } => {
            let bytes = fs.read(path, MAX_FILE_SIZE + 1)?;
            if bytes.len() as u64 > MAX_FILE_SIZE {
                return Err(ReadError::TooLarge);
            }
            Ok(bytes)
        }
        other => Err(ReadError::NotRegular(other)),
    }
}

/// Reads a file as UTF-8 text, bounded as [`read_bytes`].
pub fn read_text(fs: &dyn FileSystem, path: &Path) -> Result<String, ReadError> {
    String::from_utf8(read_bytes(fs, path)?)
        .map_err(|_| ReadError::Io(io::Error::new(io::ErrorKind::InvalidData, "not UTF-8 text")))
}

/// Reads, parses and caches files; checks scripts made of them.
pub struct Loader<'fs> {
    fs: &'fs dyn FileSystem,
    pub sources: SourceMap,
    /// Script files by id (lookup sources have ids too, but no entry here).
    files: HashMap<FileId, Loaded>,
    by_path: HashMap<PathBuf, FileId>,
    /// What each lookup source turned out to be, by canonical path.
    source_cache: HashMap<PathBuf, SourceInfo>,
}

struct Loaded {
    path: PathBuf,
    ast: ast::File,
    /// Parse diagnostics and unreadable includes.
    diagnostics: Vec<Diagnostic>,
    /// Included files that could be read.
    includes: Vec<FileId>,
}

/// A checked script.
pub struct Checked {
    pub program: Program,
    /// Every file of the script, root first.
    pub files: Vec<FileId>,
    pub diagnostics: Vec<Diagnostic>,
}

impl<'fs> Loader<'fs> {
    pub fn new(fs: &'fs dyn FileSystem) -> Loader<'fs> {
        Loader {
            fs,
            sources: SourceMap::new(),
            files: HashMap::new(),
            by_path: HashMap::new(),
            source_cache: HashMap::new(),
        }
    }

    /// Reads and parses a file and what it includes, with includes kept to
    /// the file's folder and below.
    pub fn load(&mut self, path: &Path) -> Result<FileId, ReadError> {
        let canonical = self.fs.canonical(path);
        let tree = canonical
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        self.load_in(path, Some(&tree))
    }

    /// Reads and parses a file and what it includes. With a `tree`, an
    /// include that leads outside that folder (compared after resolving
    /// `..` and symbolic links) is reported (D1007) and not read; with
    /// `None`, includes may name any file.
    ///
    /// Includes are followed breadth first with a queue, not by recursion,
    /// so a chain of any depth loads in constant stack. A file already
    /// loaded is not read again. The error says why the file itself could
    /// not be read; problems with its includes are diagnostics.
    pub fn load_in(&mut self, path: &Path, tree: Option<&Path>) -> Result<FileId, ReadError> {
        let (root, new) = self.read_file(path)?;
        let mut pending = VecDeque::new();
        if new {
            pending.push_back(root);
        }
        while let Some(id) = pending.pop_front() {
            let includes: Vec<ast::Include> = self
                .loaded(id)
                .ast
                .items
                .iter()
                .filter_map(|i| match i {
                    ast::Item::Include(inc) => Some(inc.clone()),
                    _ => None,
                })
                .collect();
            let dir = self
                .loaded(id)
                .path
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_default();
            for inc in includes {
                let target = dir.join(&inc.path.value);
                if let Some(tree) = tree
                    && !within(&self.fs.canonical(&target), tree)
                {
                    let d = Diagnostic::new(
                        Code::IncludeOutside,
                        id,
                        inc.path.span,
                        format!("`{}` is outside the script's folder", inc.path.value),
                    )
                    .label("outside the script's folder; not read")
                    .help(
                        "include files from the folder named on the command line (or the \
                         named file's folder) or below, or pass --allow-include-outside",
                    );
                    self.loaded_mut(id).diagnostics.push(d);
                    continue;
                }
                match self.read_file(&target) {
                    Ok((child, new)) => {
                        self.loaded_mut(id).includes.push(child);
                        if new {
                            pending.push_back(child);
                        }
                    }
                    Err(e) => {
                        let d = Diagnostic::new(
                            Code::IncludeNotFound,
                            id,
                            inc.path.span,
                            format!("cannot read `{}`", display(&target)),
                        )
                        .label(e.to_string())
                        .help(match e {
                            ReadError::Io(_) => {
                                "the path of an include is relative to the file that includes it"
                            }
                            _ => "include a script file (a regular text file of at most 8 MiB)",
                        });
                        self.loaded_mut(id).diagnostics.push(d);
                    }
                }
            }
        }
        Ok(root)
    }

    /// Reads and parses one file, or finds it already loaded; says whether
    /// it is new. A file that is not UTF-8 is loaded with one diagnostic at
    /// its first invalid byte and nothing else.
    fn read_file(&mut self, path: &Path) -> Result<(FileId, bool), ReadError> {
        let canonical = self.fs.canonical(path);
        if let Some(&id) = self.by_path.get(&canonical) {
            return Ok((id, false));
        }
        let bytes = read_bytes(self.fs, path)?;
        let (id, ast, diagnostics) = match String::from_utf8(bytes) {
            Ok(text) => {
                let id = self.sources.add(display(path), text);
                let (ast, diagnostics) = syntax::parse(id, &self.sources.get(id).text);
                (id, ast, diagnostics)
            }
            Err(e) => {
                let at = e.utf8_error().valid_up_to();
                let bad = e.as_bytes()[at];
                // The text up to the invalid byte is kept as it is, so the
                // position is exact; the rest is shown with replacement
                // characters and not parsed.
                let text = String::from_utf8_lossy(e.as_bytes()).into_owned();
                let id = self.sources.add(display(path), text);
                let width = char_len(&self.sources.get(id).text, at);
                let d = Diagnostic::new(
                    Code::UnreadableFile,
                    id,
                    Span::new(at, at + width),
                    format!("`{}` is not UTF-8 text", display(path)),
                )
                .label(format!("byte 0x{bad:02X} is not UTF-8"))
                .help(
                    "save the file as UTF-8 (editors call it \"UTF-8\" or \"Unicode\"); \
                     the rest of the file is not checked until then",
                );
                (id, ast::File::default(), vec![d])
            }
        };
        self.by_path.insert(canonical, id);
        self.files.insert(
            id,
            Loaded {
                path: path.to_path_buf(),
                ast,
                diagnostics,
                includes: Vec::new(),
            },
        );
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        self.read_lookup_sources(id, &dir);
        Ok((id, true))
    }

    /// Records a file that could not be read at all (one named on the
    /// command line that is a FIFO, a device or too large) as an empty file
    /// with one diagnostic, so that it is reported like any other problem.
    pub fn unreadable(&mut self, path: &Path, error: &ReadError) -> FileId {
        let canonical = self.fs.canonical(path);
        if let Some(&id) = self.by_path.get(&canonical) {
            return id;
        }
        let id = self.sources.add(display(path), String::new());
        let d = Diagnostic::new(
            Code::UnreadableFile,
            id,
            Span::default(),
            format!("cannot read `{}`: {error}", display(path)),
        )
        .label("not read")
        .help("name a script file: a regular text file of at most 8 MiB");
        self.by_path.insert(canonical, id);
        self.files.insert(
            id,
            Loaded {
                path: path.to_path_buf(),
                ast: ast::File::default(),
                diagnostics: vec![d],
                includes: Vec::new(),
            },
        );
        id
    }

    fn loaded(&self, id: FileId) -> &Loaded {
        // Ids given out for script files always have an entry.
        &self.files[&id]
    }

    fn loaded_mut(&mut self, id: FileId) -> &mut Loaded {
        self.files
            .get_mut(&id)
            .expect("ids given out for script files have an entry")
    }

    /// The files a loaded file includes, directly.
    pub fn includes(&self, id: FileId) -> &[FileId] {
        &self.loaded(id).includes
    }

    pub fn ast(&self, id: FileId) -> &ast::File {
        &self.loaded(id).ast
    }

    /// Checks the script rooted at a loaded file. `prompts` lists the prompt
    /// names available, if a prompts folder was given.
    pub fn check(&self, root: FileId, prompts: Option<BTreeSet<String>>) -> Checked {
        let mut files = vec![root];
        let mut seen = HashSet::from([root]);
        let mut i = 0;
        while i < files.len() {
            for &child in &self.loaded(files[i]).includes {
                if seen.insert(child) {
                    files.push(child);
                }
            }
            i += 1;
        }
        let mut diagnostics: Vec<Diagnostic> = files
            .iter()
            .flat_map(|f| self.loaded(*f).diagnostics.iter().cloned())
            .collect();
        let options = check::Options {
            prompts,
            lookup_sources: self.lookup_sources(&files),
        };
        let asts: Vec<(FileId, &ast::File)> =
            files.iter().map(|&f| (f, &self.loaded(f).ast)).collect();
        let (mut program, more) = check::check(&asts, &options);
        program.places = crate::source::Places::of(&self.sources);
        diagnostics.extend(more);
        crate::diagnostic::sort(&mut diagnostics);
        diagnostics.dedup();
        Checked {
            program,
            files,
            diagnostics,
        }
    }

    /// Reads what the lookups of a file point at, once per source.
    fn read_lookup_sources(&mut self, id: FileId, dir: &Path) {
        let sources: Vec<String> = self
            .loaded(id)
            .ast
            .items
            .iter()
            .filter_map(|i| match i {
                ast::Item::Lookup(l) => Some(l.source.value.clone()),
                _ => None,
            })
            .collect();
        for source in sources {
            let path = dir.join(&source);
            let canonical = self.fs.canonical(&path);
            if self.source_cache.contains_key(&canonical) {
                continue;
            }
            let info = if !self.fs.exists(&path) {
                SourceInfo::Missing
            } else if source.to_ascii_lowercase().ends_with(".csv") {
                match read_text(self.fs, &path) {
                    Ok(text) => match crate::lookup::read::read_csv(&text) {
                        Ok(table) => SourceInfo::Csv(self.sources.add(display(&path), text), table),
                        Err(why) => SourceInfo::Unreadable(why),
                    },
                    Err(e) => SourceInfo::Unreadable(e.to_string()),
                }
            } else {
                SourceInfo::Database
            };
            self.source_cache.insert(canonical, info);
        }
    }

    /// What was found at a lookup's source, for loading its rows.
    pub fn source_info(&self, file: FileId, source: &str) -> Option<&SourceInfo> {
        let dir = self
            .loaded(file)
            .path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        self.source_cache.get(&self.fs.canonical(&dir.join(source)))
    }

    /// What the lookups of these files point at, keyed as the checker asks.
    fn lookup_sources(&self, files: &[FileId]) -> HashMap<(FileId, String), SourceInfo> {
        let mut out = HashMap::new();
        for &f in files {
            let loaded = self.loaded(f);
            let dir = loaded
                .path
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_default();
            for item in &loaded.ast.items {
                let ast::Item::Lookup(l) = item else { continue };
                let canonical = self.fs.canonical(&dir.join(&l.source.value));
                if let Some(info) = self.source_cache.get(&canonical) {
                    out.insert((f, l.source.value.clone()), info.clone());
                }
            }
        }
        out
    }

    /// Where a located diagnostic's file is on disk.
    pub fn path(&self, loc: Loc) -> &Path {
        &self.loaded(loc.file).path
    }
}

/// How a path is shown in reports: as given, with `/` separators.
pub fn display(path: &Path) -> String {
    let s = path.to_string_lossy().replace('\\', "/");
    s.strip_prefix("./").map(str::to_string).unwrap_or(s)
}

/// A short reason for an I/O error, without the OS error number.
pub fn io_reason(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::NotFound => "no such file".into(),
        io::ErrorKind::PermissionDenied => "permission denied".into(),
        io::ErrorKind::InvalidData => "not UTF-8 text".into(),
        io::ErrorKind::IsADirectory => "is a directory".into(),
        _ => e.to_string(),
    }
}

/// Checks `main.dial` and whatever it includes or reads from `fs`: for
/// tests, benchmarks and embedders that hold scripts in memory. The error
/// lists the script's errors, one per line (`D2001 unknown queue ...`).
pub fn check_in_memory(fs: &MemoryFs) -> Result<crate::checked::Program, String> {
    let mut loader = Loader::new(fs);
    let root = loader
        .load(Path::new("main.dial"))
        .map_err(|e| format!("{e:?}"))?;
    let checked = loader.check(root, None);
    let errors: Vec<String> = (checked.diagnostics.iter())
        .filter(|d| d.is_error())
        .map(|d| format!("{} {}", d.code, d.message))
        .collect();
    if errors.is_empty() {
        Ok(checked.program)
    } else {
        Err(errors.join("\n"))
    }
}

/// An in-memory file system for tests and fuzzing. `files` holds text;
/// `special` holds what a disk can also present: bytes that are not UTF-8,
/// FIFOs and devices, files larger than they say or endless.
#[derive(Default, Clone)]
pub struct MemoryFs {
    pub files: HashMap<PathBuf, String>,
    pub special: HashMap<PathBuf, SpecialFile>,
}

/// A file of [`MemoryFs`] that is not plain text.
#[derive(Clone, Debug)]
pub enum SpecialFile {
    /// A regular file with these bytes (not UTF-8, say).
    Bytes(Vec<u8>),
    /// Something that is not a regular file. Reading it panics, since the
    /// loader must look at the kind first (opening a real FIFO blocks), and
    /// a test or fuzz run should fail loudly when it does not.
    Kind(FileKind),
    /// A regular file whose metadata says `len` bytes and that reads as
    /// that many `a`s.
    Sized(u64),
    /// A regular file whose metadata says 0 bytes and that never ends, as
    /// files under `/proc` and growing logs do.
    Endless,
}

impl MemoryFs {
    pub fn with(mut self, path: &str, text: &str) -> MemoryFs {
        self.files.insert(PathBuf::from(path), text.to_string());
        self
    }

    pub fn with_special(mut self, path: &str, file: SpecialFile) -> MemoryFs {
        self.special.insert(PathBuf::from(path), file);
        self
    }
}

impl FileSystem for MemoryFs {
    fn kind(&self, path: &Path) -> io::Result<FileKind> {
        let path = normalize(path);
        if let Some(text) = self.files.get(&path) {
            return Ok(FileKind::Regular {
                len: text.len() as u64,
            });
        }
        match self.special.get(&path) {
            Some(SpecialFile::Bytes(b)) => Ok(FileKind::Regular {
                len: b.len() as u64,
            }),
            Some(SpecialFile::Kind(kind)) => Ok(*kind),
            Some(SpecialFile::Sized(len)) => Ok(FileKind::Regular { len: *len }),
            Some(SpecialFile::Endless) => Ok(FileKind::Regular { len: 0 }),
            None => Err(io::Error::new(io::ErrorKind::NotFound, "no such file")),
        }
    }
    fn read(&self, path: &Path, limit: u64) -> io::Result<Vec<u8>> {
        let path = normalize(path);
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        if let Some(text) = self.files.get(&path) {
            return Ok(text.as_bytes()[..text.len().min(limit)].to_vec());
        }
        match self.special.get(&path) {
            Some(SpecialFile::Bytes(b)) => Ok(b[..b.len().min(limit)].to_vec()),
            Some(SpecialFile::Kind(kind)) => {
                panic!(
                    "{} opened: the loader must not open {}",
                    path.display(),
                    kind.describe()
                )
            }
            Some(SpecialFile::Sized(len)) => {
                Ok(vec![
                    b'a';
                    usize::try_from(*len).unwrap_or(usize::MAX).min(limit)
                ])
            }
            Some(SpecialFile::Endless) => Ok(vec![b'a'; limit]),
            None => Err(io::Error::new(io::ErrorKind::NotFound, "no such file")),
        }
    }
    fn exists(&self, path: &Path) -> bool {
        let path = normalize(path);
        self.files.contains_key(&path) || self.special.contains_key(&path)
    }
    fn canonical(&self, path: &Path) -> PathBuf {
        normalize(path)
    }
}

/// Whether a canonical path lies in a folder or below it.
pub fn within(path: &Path, tree: &Path) -> bool {
    path.strip_prefix(tree)
        .is_ok_and(|rest| rest.components().all(|c| matches!(c, Component::Normal(_))))
}

/// The length in bytes of the character at `at` (1 past the end).
fn char_len(text: &str, at: usize) -> usize {
    text.get(at..)
        .and_then(|rest| rest.chars().next())
        .map_or(0, char::len_utf8)
}

/// Removes `.` and `..` components without touching a disk.
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    out
}
