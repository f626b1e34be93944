//! The deciding forms that act on a whole waiver or set: sign (approve) a pending waiver,
//! reject or revoke one with a reason, and export the set's package. Signing loads the key
//! on confirm only; the passphrase is kept in memory as bytes and never drawn.

use super::decide::{actor, Outcome};
use super::jobs::Job;
use super::theme::Theme;
use crate::model::waiver::WaiverState;
use crate::sanitize::line;
use crate::store::Store;
use crate::workflow::export::{ExportRequest, Selection};
use crate::workflow::{keys, waivers};
use ratatui::crossterm::event::{KeyCode, KeyEvent};
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};
use ratatui::Frame;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActKind {
    Sign,
    Reject,
    Revoke,
    Export,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Format,
    OutDir,
    KeyPath,
    Passphrase,
    Reason,
    Confirm,
}

/// Export formats offered, in the order `j`/`k` walks them (`all` first).
pub const FORMATS: &[&str] = &[
    "all",
    "json",
    "pdf",
    "openvex",
    "cyclonedx-vex",
    "poam-csv",
    "poam-xlsx",
];
pub const DEFAULT_OUT_DIR: &str = "./dossier-export";

pub struct ActForm {
    pub kind: ActKind,
    pub set_id: i64,
    /// The waiver acted on (empty for export).
    pub waiver_id: String,
    /// What the form is about, for its first line (vulnerability, image).
    pub subject: String,
    step: usize,
    pub format: usize,
    pub out_dir: String,
    pub key_path: String,
    passphrase: Vec<u8>,
    pub reason: String,
    pub error: Option<String>,
}

impl ActForm {
    /// A waiver form; signing prefills the key path from the demo's approver key setting.
    pub fn waiver(
        kind: ActKind,
        store: &Store,
        set_id: i64,
        waiver_id: &str,
        subject: &str,
    ) -> Self {
        let key_path = if kind == ActKind::Sign {
            store
                .setting(crate::workflow::demo::SETTING_APPROVER_KEY)
                .ok()
                .flatten()
                .unwrap_or_default()
        } else {
            String::new()
        };
        Self::new(kind, set_id, waiver_id, subject, key_path)
    }

    /// The export form; the optional package signing key is prefilled from the demo's
    /// reviewer key setting (clear the field to export unsigned).
    pub fn export(store: &Store, set_id: i64, subject: &str) -> Self {
        let key_path = store
            .setting(crate::workflow::demo::SETTING_REVIEWER_KEY)
            .ok()
            .flatten()
            .unwrap_or_default();
        Self::new(ActKind::Export, set_id, "", subject, key_path)
    }

    fn new(kind: ActKind, set_id: i64, waiver_id: &str, subject: &str, key_path: String) -> Self {
        Self {
            kind,
            set_id,
            waiver_id: waiver_id.to_string(),
            subject: subject.to_string(),
            step: 0,
            format: 0,
            out_dir: DEFAULT_OUT_DIR.to_string(),
            key_path,
            passphrase: Vec::new(),
            reason: String::new(),
            error: None,
        }
    }

    fn fields(&self) -> &'static [Field] {
        match self.kind {
            ActKind::Sign => &[Field::KeyPath, Field::Passphrase, Field::Confirm],
            ActKind::Reject | ActKind::Revoke => &[Field::Reason, Field::Confirm],
            ActKind::Export => &[
                Field::Format,
                Field::OutDir,
                Field::KeyPath,
                Field::Passphrase,
                Field::Confirm,
            ],
        }
    }

    fn field(&self) -> Field {
        self.fields()
            .get(self.step)
            .copied()
            .unwrap_or(Field::Confirm)
    }

    fn text_mut(&mut self) -> Option<&mut String> {
        match self.field() {
            Field::OutDir => Some(&mut self.out_dir),
            Field::KeyPath => Some(&mut self.key_path),
            Field::Reason => Some(&mut self.reason),
            _ => None,
        }
    }

    pub fn key(&mut self, k: KeyEvent, store: &mut Store) -> Outcome {
        self.error = None;
        let last = self.fields().len().saturating_sub(1);
        match (self.field(), k.code) {
            (_, KeyCode::Esc) => return Outcome::Cancelled,
            (Field::Confirm, KeyCode::Char('y') | KeyCode::Enter) => return self.submit(store),
            (Field::Confirm, KeyCode::Char('n')) => self.step = 0,
            (Field::Format, KeyCode::Up | KeyCode::Char('k')) => {
                self.format = self.format.saturating_sub(1)
            }
            (Field::Format, KeyCode::Down | KeyCode::Char('j')) => {
                self.format = (self.format + 1).min(FORMATS.len() - 1)
            }
            (_, KeyCode::Enter | KeyCode::Tab) => self.step = (self.step + 1).min(last),
            (_, KeyCode::BackTab) => self.step = self.step.saturating_sub(1),
            (Field::Passphrase, KeyCode::Backspace) => {
                self.passphrase.pop();
            }
            (Field::Passphrase, KeyCode::Char(c)) if !c.is_control() => {
                let mut b = [0u8; 4];
                self.passphrase
                    .extend_from_slice(c.encode_utf8(&mut b).as_bytes());
            }
            (_, KeyCode::Backspace) => {
                if let Some(t) = self.text_mut() {
                    t.pop();
                }
            }
            (_, KeyCode::Char(c)) if !c.is_control() => {
                if let Some(t) = self.text_mut() {
                    t.push(c);
                }
            }
            _ => {}
        }
        Outcome::Open
    }

    fn submit(&mut self, store: &mut Store) -> Outcome {
        let who = actor();
        let set_id = self.set_id;
        let r = match self.kind {
            ActKind::Sign => self.sign(store, &who),
            ActKind::Reject | ActKind::Revoke => {
                let to = if self.kind == ActKind::Reject {
                    WaiverState::Rejected
                } else {
                    WaiverState::Revoked
                };
                waivers::change_state(store, &who, &self.waiver_id, to, self.reason.trim())
                    .map(|_| format!("waiver {} {} by {}", self.waiver_id, to, who.name))
                    .map_err(|e| e.to_string())
            }
            ActKind::Export => return self.start_export(),
        };
        match r {
            Ok(msg) => Outcome::Done(line(&msg, 200), vec![Job::Judge { set_id }]),
            Err(e) => {
                self.error = Some(e);
                self.step = 0;
                Outcome::Open
            }
        }
    }

    fn sign(&mut self, store: &mut Store, who: &crate::workflow::Actor) -> Result<String, String> {
        let path = std::path::PathBuf::from(self.key_path.trim());
        if path.as_os_str().is_empty() {
            return Err("a signing key file is required".into());
        }
        let pass = std::mem::take(&mut self.passphrase);
        let key = keys::load_signing_key(&path, &mut || {
            if pass.is_empty() {
                Err(keys::KeysError::Io {
                    path: path.display().to_string(),
                    source: std::io::Error::other("the key is encrypted: type its passphrase"),
                })
            } else {
                Ok(pass.clone())
            }
        })
        .map_err(|e| e.to_string())?;
        let opts = waivers::SignOptions {
            allow_self_approval: crate::analysis::policy::Policy::default_policy().self_approval,
        };
        // In the demo one person plays both roles; the demo's approver key belongs to the
        // sample's approver, so signing with it signs as that person (self-approval stays
        // refused for everyone else).
        let approver = demo_approver(store, &path).unwrap_or_else(|| who.clone());
        let s = waivers::sign_stored(
            store,
            &approver,
            &self.waiver_id,
            &key,
            &opts,
            chrono::Utc::now(),
        )
        .map_err(|e| e.to_string())?;
        Ok(format!(
            "waiver {} signed by {} (key {}), valid until {}",
            s.id,
            approver.name,
            &s.keyid[..s.keyid.len().min(16)],
            s.expires
        ))
    }

    fn start_export(&mut self) -> Outcome {
        let fmt = FORMATS.get(self.format).copied().unwrap_or("all");
        let formats = match crate::export::ExportFormat::parse_list(fmt) {
            Ok(f) => f,
            Err(e) => {
                self.error = Some(e);
                self.step = 0;
                return Outcome::Open;
            }
        };
        let out = self.out_dir.trim();
        let key = self.key_path.trim();
        let req = ExportRequest {
            selection: Selection::Set(self.set_id.to_string()),
            formats,
            out_dir: if out.is_empty() {
                DEFAULT_OUT_DIR.into()
            } else {
                out.into()
            },
            sign_key: (!key.is_empty()).then(|| key.into()),
            passphrase: Some(std::mem::take(&mut self.passphrase)).filter(|p| !p.is_empty()),
            as_of: None,
            source_date_epoch: std::env::var("SOURCE_DATE_EPOCH").ok(),
            with_evidence: false,
            all_findings: false,
            classification: "UNCLASSIFIED".into(),
            policy: None,
        };
        Outcome::Done(
            format!("exporting set {} ({fmt})…", self.set_id),
            vec![Job::Export(Box::new(req))],
        )
    }

    pub fn draw(&self, f: &mut Frame<'_>, area: Rect, t: Theme) {
        let w = area.width.saturating_sub(4).min(70);
        let h = area.height.saturating_sub(4).min(16);
        let r = Rect {
            x: area.x + (area.width - w) / 2,
            y: area.y + 2,
            width: w,
            height: h,
        };
        f.render_widget(Clear, r);
        let title = match self.kind {
            ActKind::Sign => " sign waiver ",
            ActKind::Reject => " reject waiver ",
            ActKind::Revoke => " revoke waiver ",
            ActKind::Export => " export ",
        };
        let mut lines = vec![Line::from(vec![
            Span::styled(line(&self.waiver_id, 20), t.title()),
            Span::raw(if self.waiver_id.is_empty() { "" } else { " " }),
            Span::raw(line(&self.subject, 50)),
        ])];
        let cur = self.field();
        let mark = |fld: Field| if fld == cur { "▏" } else { "" };
        for fld in self.fields() {
            let style = if *fld == cur {
                t.key()
            } else {
                ratatui::style::Style::new()
            };
            let text = match fld {
                Field::Format => format!(
                    "format (j/k): {}",
                    FORMATS.get(self.format).unwrap_or(&"all")
                ),
                Field::OutDir => format!("out dir: {}{}", line(&self.out_dir, 200), mark(*fld)),
                Field::KeyPath => format!(
                    "{}: {}{}",
                    if self.kind == ActKind::Export {
                        "sign key (optional)"
                    } else {
                        "key file"
                    },
                    line(&self.key_path, 200),
                    mark(*fld)
                ),
                // Never echoed: only whether something was typed.
                Field::Passphrase => format!(
                    "passphrase: {}{}",
                    if self.passphrase.is_empty() {
                        "(none)"
                    } else {
                        "(entered)"
                    },
                    mark(*fld)
                ),
                Field::Reason => format!("reason: {}{}", line(&self.reason, 200), mark(*fld)),
                Field::Confirm => match self.kind {
                    ActKind::Sign => {
                        "sign this waiver? y / Enter = yes, n = edit, Esc = cancel".into()
                    }
                    ActKind::Export => "export? y / Enter = yes, n = edit, Esc = cancel".into(),
                    _ => "record this? y / Enter = yes, n = edit, Esc = cancel".into(),
                },
            };
            if *fld == Field::Confirm && cur != Field::Confirm {
                continue;
            }
            lines.push(Line::from(Span::styled(text, style)));
        }
        if let Some(e) = &self.error {
            lines.push(Line::from(Span::styled(line(e, 300), t.bad())));
        }
        let block = Block::default().borders(Borders::ALL).title(title);
        f.render_widget(
            Paragraph::new(lines).block(block).wrap(Wrap { trim: true }),
            r,
        );
    }
}

/// The sample approver, when `key` is the demo store's approver key.
fn demo_approver(store: &Store, key: &std::path::Path) -> Option<crate::workflow::Actor> {
    let demo_key = store
        .setting(crate::workflow::demo::SETTING_APPROVER_KEY)
        .ok()
        .flatten()?;
    (std::path::Path::new(&demo_key) == key).then(|| crate::workflow::Actor {
        name: crate::workflow::demo::DEMO_APPROVER_NAME.into(),
        role: Some(crate::workflow::demo::DEMO_APPROVER_ROLE.into()),
        key_fingerprint: None,
    })
}
