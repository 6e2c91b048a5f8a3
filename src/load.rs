//! Loading a script: its files and their `include`s, the lookup sources and
//! the prompts folder, read through a [`FileSystem`] so that the pipeline
//! itself does no I/O (the CLI passes the real file system, tests a map).
//!
//! One [`Loader`] can load several scripts that share files; every file is
//! read and parsed once, so its diagnostics are reported once.

use std::collections::{BTreeSet, HashMap};
use std::io;
use std::path::{Path, PathBuf};

use crate::check::{self, SourceInfo};
use crate::checked::Program;
use crate::diagnostic::{Code, Diagnostic};
use crate::source::{FileId, Loc, SourceMap};
use crate::syntax::{self, ast};

/// The file access the loader needs.
pub trait FileSystem {
    fn read(&self, path: &Path) -> io::Result<String>;
    fn exists(&self, path: &Path) -> bool;
    /// A canonical form of the path, so one file reached two ways is one file.
    fn canonical(&self, path: &Path) -> PathBuf;
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

    /// Reads and parses a file and, recursively, what it includes.
    pub fn load(&mut self, path: &Path) -> io::Result<FileId> {
        let canonical = self.fs.canonical(path);
        if let Some(&id) = self.by_path.get(&canonical) {
            return Ok(id);
        }
        let text = self.fs.read(path)?;
        if text.len() > u32::MAX as usize / 2 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "the file is larger than 2 GiB",
            ));
        }
        let id = self.sources.add(display(path), text);
        let (ast, diagnostics) = syntax::parse(id, &self.sources.get(id).text);
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
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        self.read_lookup_sources(id, &dir);
        for inc in includes {
            let target = dir.join(&inc.path.value);
            match self.load(&target) {
                Ok(child) => self.loaded_mut(id).includes.push(child),
                Err(e) => {
                    let d = Diagnostic::new(
                        Code::IncludeNotFound,
                        id,
                        inc.path.span,
                        format!("cannot read `{}`", display(&target)),
                    )
                    .label(io_reason(&e))
                    .help("the path of an include is relative to the file that includes it");
                    self.loaded_mut(id).diagnostics.push(d);
                }
            }
        }
        Ok(id)
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
        let mut i = 0;
        while i < files.len() {
            for &child in &self.loaded(files[i]).includes {
                if !files.contains(&child) {
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
        let (program, more) = check::check(&asts, &options);
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
                match self.fs.read(&path) {
                    Ok(text) => match crate::lookup::read_csv(&text) {
                        Ok(table) => SourceInfo::Csv(self.sources.add(display(&path), text), table),
                        Err(why) => SourceInfo::Unreadable(why),
                    },
                    Err(e) => SourceInfo::Unreadable(io_reason(&e)),
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

/// An in-memory file system for tests and fuzzing.
#[derive(Default, Clone)]
pub struct MemoryFs {
    pub files: HashMap<PathBuf, String>,
}

impl MemoryFs {
    pub fn with(mut self, path: &str, text: &str) -> MemoryFs {
        self.files.insert(PathBuf::from(path), text.to_string());
        self
    }
}

impl FileSystem for MemoryFs {
    fn read(&self, path: &Path) -> io::Result<String> {
        self.files
            .get(&normalize(path))
            .cloned()
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no such file"))
    }
    fn exists(&self, path: &Path) -> bool {
        self.files.contains_key(&normalize(path))
    }
    fn canonical(&self, path: &Path) -> PathBuf {
        normalize(path)
    }
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
