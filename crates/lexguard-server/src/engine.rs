//! The filter in service: an atomically swapped snapshot (main filter + fast layer), runtime
//! edits, background merges and reloads.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;

use lexguard::{Action, Filter, Hit, Lexicon, NormalizeOptions};
use serde::Serialize;
use tokio::sync::Notify;

use crate::compose::{Fast, TermIndex, build_fast, build_main};
use crate::config::ListsConfig;
use crate::metrics::Metrics;
use crate::overlay::{GLOBAL, Overlay, Touched};

/// A consistent view for checks: requests keep the snapshot they started with.
#[derive(Debug)]
pub(crate) struct Snapshot {
    pub main: Filter,
    /// The main filter's terms, normalized (filled on demand).
    pub main_index: Arc<TermIndex>,
    /// The overlay the main filter was built with.
    pub main_overlay: Arc<Overlay>,
    /// The overlay now (persisted).
    pub overlay: Arc<Overlay>,
    pub fast: Option<Fast>,
    /// Increases with every edit and reload.
    pub generation: u64,
    /// Increases with every reload from disk.
    pub epoch: u64,
}

impl Snapshot {
    /// Hits of one field's text (main filter plus fast layer).
    pub(crate) fn hits(&self, field: &str, text: &str) -> Vec<Hit> {
        let mut hits = self.main.check_field(field, text).hits;
        if let Some(fast) = &self.fast {
            fast.apply(field, text, &mut hits);
        }
        hits
    }
}

/// The configured lists as loaded, and indexes of what they contain.
#[derive(Debug)]
struct Base {
    lexicon: Lexicon,
    terms: HashSet<(String, String)>,
    allow: HashSet<(String, String)>,
}

impl Base {
    fn load(lists: &ListsConfig) -> Result<Base, String> {
        let mut lexicon = Lexicon::new();
        if lists.default {
            lexicon.add_shipped().map_err(|e| e.to_string())?;
        }
        for dir in &lists.dirs {
            lexicon.add_dir(dir).map_err(|e| e.to_string())?;
        }
        let terms = lexicon.terms().iter().map(|t| (t.category.clone(), t.text.clone())).collect();
        let allow = lexicon
            .allow_phrases()
            .iter()
            .map(|a| (a.category.clone().unwrap_or_else(|| GLOBAL.to_string()), a.text.clone()))
            .collect();
        Ok(Base { lexicon, terms, allow })
    }
}

/// Status of the last reload, for stats.
#[derive(Clone, Debug, Default, Serialize)]
pub(crate) struct ReloadStatus {
    pub ok: bool,
    pub error: Option<String>,
    pub millis: u64,
    pub finished_unix: Option<u64>,
}

/// A runtime edit.
#[derive(Clone, Debug)]
pub(crate) struct Edit {
    pub category: String,
    pub terms: Vec<String>,
    pub action: Option<Action>,
    pub allow: bool,
    pub remove: bool,
}

/// The outcome of an edit.
#[derive(Clone, Debug, Default, Serialize)]
pub(crate) struct EditOutcome {
    pub changed: Vec<String>,
    pub unchanged: Vec<String>,
    pub generation: u64,
    /// Time to compile the fast layer, and to persist the edit.
    pub compile_us: u64,
    pub persist_us: u64,
}

#[derive(Debug)]
pub(crate) enum EditError {
    Invalid(String),
    Io(String),
}

pub(crate) struct Engine {
    current: RwLock<Arc<Snapshot>>,
    /// Serializes edits, merges' swaps and reloads; holds the configured lists.
    editor: tokio::sync::Mutex<Arc<Base>>,
    merge_wanted: Notify,
    lists: ListsConfig,
    options: NormalizeOptions,
    pub overlay_dir: PathBuf,
    pub last_reload: Mutex<ReloadStatus>,
    pub last_merge_ms: Mutex<Option<u64>>,
    /// (compile, persist) microseconds of the last edit.
    pub last_edit: Mutex<Option<(u64, u64)>>,
    pub started: Instant,
    metrics: Arc<Metrics>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").field("overlay_dir", &self.overlay_dir).finish_non_exhaustive()
    }
}

fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

impl Engine {
    /// Loads the configured lists and the overlay and compiles the filter.
    pub(crate) fn load(lists: ListsConfig, overlay_dir: PathBuf, metrics: Arc<Metrics>) -> Result<Engine, String> {
        let t = Instant::now();
        let options = NormalizeOptions::new();
        let base = Base::load(&lists)?;
        let overlay = Arc::new(Overlay::load(&overlay_dir)?);
        let main = build_main(&base.lexicon, &overlay, &overlay_dir, options).map_err(|e| e.to_string())?;
        let snap = Snapshot {
            main,
            main_index: Arc::default(),
            main_overlay: overlay.clone(),
            overlay,
            fast: None,
            generation: 1,
            epoch: 1,
        };
        let status = ReloadStatus {
            ok: true,
            error: None,
            millis: t.elapsed().as_millis() as u64,
            finished_unix: Some(unix_now()),
        };
        Ok(Engine {
            current: RwLock::new(Arc::new(snap)),
            editor: tokio::sync::Mutex::new(Arc::new(base)),
            merge_wanted: Notify::new(),
            lists,
            options,
            overlay_dir,
            last_reload: Mutex::new(status),
            last_merge_ms: Mutex::new(None),
            last_edit: Mutex::new(None),
            started: Instant::now(),
            metrics,
        })
    }

    /// Fills the term index of the main filter loaded at startup (run it off the async
    /// runtime; merges and reloads fill theirs as they build).
    pub(crate) fn warm_index(&self) {
        let snap = self.snapshot();
        snap.main_index.get(&snap.main);
    }

    /// The snapshot to check with.
    pub(crate) fn snapshot(&self) -> Arc<Snapshot> {
        self.current.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn swap(&self, snap: Snapshot) {
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(snap);
    }

    /// Applies an edit: validates it, persists it (durably), and makes it visible to checks
    /// through the fast layer, all before returning; then asks for a background merge.
    pub(crate) async fn edit(self: &Arc<Self>, edit: Edit) -> Result<EditOutcome, EditError> {
        let base = self.editor.lock().await;
        let snap = self.snapshot();
        let mut ov = (*snap.overlay).clone();
        let mut touched = Touched::default();
        let mut out = EditOutcome::default();
        let cat = edit.category.clone();
        for term in &edit.terms {
            let changed = match (edit.allow, edit.remove) {
                (false, false) => {
                    let entry = ov.terms.entry(cat.clone()).or_default();
                    let changed = entry.get(term) != Some(&edit.action);
                    if changed {
                        entry.insert(term.clone(), edit.action);
                        touched.terms.insert(cat.clone());
                    }
                    changed
                }
                (true, false) => {
                    let changed = ov.allow.entry(cat.clone()).or_default().insert(term.clone());
                    if changed {
                        touched.allow.insert(cat.clone());
                    }
                    changed
                }
                (false, true) => {
                    let mut changed = false;
                    if ov.terms.get_mut(&cat).is_some_and(|t| t.remove(term).is_some()) {
                        touched.terms.insert(cat.clone());
                        changed = true;
                    }
                    if base.terms.contains(&(cat.clone(), term.clone()))
                        && ov.removed.terms.entry(cat.clone()).or_default().insert(term.clone())
                    {
                        touched.removed = true;
                        changed = true;
                    }
                    changed
                }
                (true, true) => {
                    let mut changed = false;
                    if ov.allow.get_mut(&cat).is_some_and(|t| t.remove(term)) {
                        touched.allow.insert(cat.clone());
                        changed = true;
                    }
                    if base.allow.contains(&(cat.clone(), term.clone()))
                        && ov.removed.allow.entry(cat.clone()).or_default().insert(term.clone())
                    {
                        touched.removed = true;
                        changed = true;
                    }
                    changed
                }
            };
            if changed { &mut out.changed } else { &mut out.unchanged }.push(term.clone());
        }
        ov.terms.retain(|_, t| !t.is_empty());
        ov.allow.retain(|_, t| !t.is_empty());
        ov.removed.terms.retain(|_, t| !t.is_empty());
        ov.removed.allow.retain(|_, t| !t.is_empty());
        if touched.is_empty() {
            out.generation = snap.generation;
            return Ok(out);
        }
        // Validate and compile the fast layer, then persist, then publish.
        let (dir, options, main_ov, base2, main, index) = (
            self.overlay_dir.clone(),
            self.options,
            snap.main_overlay.clone(),
            base.clone(),
            snap.main.clone(),
            snap.main_index.clone(),
        );
        let ov = Arc::new(ov);
        let ov2 = ov.clone();
        let (fast, compile_us, persist_us) = tokio::task::spawn_blocking(move || -> Result<_, EditError> {
            let t = Instant::now();
            let fast = build_fast(&base2.lexicon, &main, &index, &main_ov, &ov2, &dir, options)
                .map_err(|e| EditError::Invalid(e.message().to_string()))?;
            let compile_us = t.elapsed().as_micros() as u64;
            let t = Instant::now();
            ov2.persist(&dir, &touched).map_err(|e| EditError::Io(format!("{}: {e}", dir.display())))?;
            Ok((fast, compile_us, t.elapsed().as_micros() as u64))
        })
        .await
        .map_err(|e| EditError::Io(e.to_string()))??;
        out.compile_us = compile_us;
        out.persist_us = persist_us;
        *self.last_edit.lock().unwrap_or_else(|e| e.into_inner()) = Some((compile_us, persist_us));
        let generation = snap.generation + 1;
        self.swap(Snapshot {
            main: snap.main.clone(),
            main_index: snap.main_index.clone(),
            main_overlay: snap.main_overlay.clone(),
            overlay: ov,
            fast: (!fast.is_empty()).then_some(fast),
            generation,
            epoch: snap.epoch,
        });
        drop(base);
        self.merge_wanted.notify_one();
        out.generation = generation;
        Ok(out)
    }

    /// Runs forever: folds runtime edits into the main filter in the background.
    pub(crate) async fn merge_loop(self: Arc<Self>) {
        loop {
            self.merge_wanted.notified().await;
            let (base, snap) = {
                let base = self.editor.lock().await;
                (base.clone(), self.snapshot())
            };
            if snap.fast.is_none() {
                continue;
            }
            let t = Instant::now();
            let (dir, options, ov) = (self.overlay_dir.clone(), self.options, snap.overlay.clone());
            // The term index of the new filter is built here too, off the edit path.
            let built = tokio::task::spawn_blocking(move || {
                build_main(&base.lexicon, &ov, &dir, options).map(|f| {
                    let index = Arc::new(TermIndex::default());
                    index.get(&f);
                    (f, index, base)
                })
            })
            .await;
            let (main, main_index, base) = match built {
                Ok(Ok(x)) => x,
                Ok(Err(e)) => {
                    tracing::error!(error = %e, "background rebuild failed; runtime edits stay in the fast layer");
                    continue;
                }
                Err(e) => {
                    tracing::error!(error = %e, "background rebuild failed; runtime edits stay in the fast layer");
                    continue;
                }
            };
            let guard = self.editor.lock().await;
            let now = self.snapshot();
            if !Arc::ptr_eq(&guard, &base) {
                continue; // A reload replaced everything meanwhile.
            }
            let fast = if Arc::ptr_eq(&now.overlay, &snap.overlay) {
                None
            } else {
                // Edits arrived while building: keep them in a fast layer relative to the
                // overlay just merged.
                match build_fast(
                    &guard.lexicon,
                    &main,
                    &main_index,
                    &snap.overlay,
                    &now.overlay,
                    &self.overlay_dir,
                    self.options,
                ) {
                    Ok(f) => (!f.is_empty()).then_some(f),
                    Err(e) => {
                        tracing::error!(error = %e, "fast layer rebuild failed");
                        continue;
                    }
                }
            };
            let pending = fast.is_some();
            self.swap(Snapshot {
                main,
                main_index,
                main_overlay: snap.overlay.clone(),
                overlay: now.overlay.clone(),
                fast,
                generation: now.generation + 1,
                epoch: now.epoch,
            });
            drop(guard);
            let ms = t.elapsed().as_millis() as u64;
            *self.last_merge_ms.lock().unwrap_or_else(|e| e.into_inner()) = Some(ms);
            self.metrics.merges.fetch_add(1, Relaxed);
            tracing::info!(millis = ms, "runtime edits merged into the main filter");
            if pending {
                self.merge_wanted.notify_one();
            }
        }
    }

    /// Rebuilds everything from disk (configured lists and overlay) and swaps it in; requests
    /// in flight finish on the old filter. On error the old filter stays.
    pub(crate) async fn reload(self: &Arc<Self>) -> Result<u64, String> {
        let mut guard = self.editor.lock().await;
        let t = Instant::now();
        let (lists, dir, options) = (self.lists.clone(), self.overlay_dir.clone(), self.options);
        let result = tokio::task::spawn_blocking(move || -> Result<(Base, Overlay, Filter, Arc<TermIndex>), String> {
            let base = Base::load(&lists)?;
            let ov = Overlay::load(&dir)?;
            let main = build_main(&base.lexicon, &ov, &dir, options).map_err(|e| e.to_string())?;
            let index = Arc::new(TermIndex::default());
            index.get(&main);
            Ok((base, ov, main, index))
        })
        .await
        .map_err(|e| e.to_string())
        .and_then(|r| r);
        let millis = t.elapsed().as_millis() as u64;
        let mut status = ReloadStatus { ok: result.is_ok(), error: None, millis, finished_unix: Some(unix_now()) };
        let out = match result {
            Ok((base, ov, main, main_index)) => {
                let snap = self.snapshot();
                let ov = Arc::new(ov);
                *guard = Arc::new(base);
                let generation = snap.generation + 1;
                self.swap(Snapshot {
                    main,
                    main_index,
                    main_overlay: ov.clone(),
                    overlay: ov,
                    fast: None,
                    generation,
                    epoch: snap.epoch + 1,
                });
                self.metrics.reloads_ok.fetch_add(1, Relaxed);
                tracing::info!(millis, generation, "reloaded lists from disk");
                Ok(millis)
            }
            Err(e) => {
                self.metrics.reloads_failed.fetch_add(1, Relaxed);
                tracing::error!(error = %e, "reload failed; the previous filter stays in service");
                status.error = Some(e.clone());
                Err(e)
            }
        };
        *self.last_reload.lock().unwrap_or_else(|e| e.into_inner()) = status;
        out
    }
}
