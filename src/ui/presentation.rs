//! How the console looks in front of a class: zoom (100–250 %) and theme (dark, light,
//! high contrast), kept between runs in `$XDG_CONFIG_HOME/tde-console/view.txt` (or
//! `~/.config/...`).

use egui::{Color32, Stroke, Theme, Visuals};
use std::path::PathBuf;

/// The console's colour scheme.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Look {
    Dark,
    Light,
    /// White on black with strong outlines, for projectors and the back of a room.
    HighContrast,
}

impl Look {
    pub const ALL: [Look; 3] = [Look::Dark, Look::Light, Look::HighContrast];

    pub fn label(self) -> &'static str {
        match self {
            Look::Dark => "Dark theme",
            Look::Light => "Light theme",
            Look::HighContrast => "High contrast",
        }
    }

    fn key(self) -> &'static str {
        match self {
            Look::Dark => "dark",
            Look::Light => "light",
            Look::HighContrast => "high-contrast",
        }
    }
}

pub struct Presentation {
    pub zoom: f32,
    pub look: Look,
    /// Whether settings are read from and written to disk (off in tests).
    persistent: bool,
    /// What was last applied to the context.
    applied: Option<(f32, Look)>,
}

impl Default for Presentation {
    fn default() -> Self {
        Presentation {
            zoom: 1.0,
            look: Look::Dark,
            persistent: false,
            applied: None,
        }
    }
}

fn store() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
    Some(base.join("tde-console").join("view.txt"))
}

impl Presentation {
    pub const ZOOMS: [f32; 6] = [1.0, 1.25, 1.5, 1.75, 2.0, 2.5];

    /// The settings saved by the last run (defaults when there are none or they are bad).
    pub fn load() -> Self {
        let mut p = Presentation {
            persistent: true,
            ..Default::default()
        };
        let text = store()
            .and_then(|f| crate::persist::read_user_text(&f).ok())
            .unwrap_or_default();
        for line in text.lines() {
            match line.split_once('=') {
                Some(("zoom", z)) => {
                    if let Ok(z) = z.trim().parse::<f32>()
                        && (1.0..=2.5).contains(&z)
                    {
                        p.zoom = z;
                    }
                }
                Some(("theme", t)) => {
                    if let Some(l) = Look::ALL.into_iter().find(|l| l.key() == t.trim()) {
                        p.look = l;
                    }
                }
                _ => {}
            }
        }
        p
    }

    /// Changes the settings and remembers them.
    pub fn set(&mut self, zoom: f32, look: Look) {
        self.zoom = zoom.clamp(1.0, 2.5);
        self.look = look;
        if self.persistent
            && let Some(file) = store()
        {
            if let Some(dir) = file.parent() {
                let _ = std::fs::create_dir_all(dir);
            }
            let _ = std::fs::write(file, format!("zoom={}\ntheme={}\n", self.zoom, look.key()));
        }
    }

    /// Applies the settings to the context when they changed.
    pub fn apply(&mut self, ctx: &egui::Context) {
        if self.applied == Some((self.zoom, self.look)) {
            return;
        }
        self.applied = Some((self.zoom, self.look));
        ctx.set_zoom_factor(self.zoom);
        match self.look {
            Look::Dark => {
                ctx.set_visuals_of(Theme::Dark, Visuals::dark());
                ctx.set_theme(Theme::Dark);
            }
            Look::Light => ctx.set_theme(Theme::Light),
            Look::HighContrast => {
                ctx.set_visuals_of(Theme::Dark, high_contrast());
                ctx.set_theme(Theme::Dark);
            }
        }
    }
}

/// Whether `v` are the high-contrast visuals (white text on black).
pub fn is_high_contrast(v: &Visuals) -> bool {
    v.dark_mode && v.panel_fill == Color32::BLACK && v.override_text_color == Some(Color32::WHITE)
}

pub(crate) fn high_contrast() -> Visuals {
    let mut v = Visuals::dark();
    v.override_text_color = Some(Color32::WHITE);
    v.panel_fill = Color32::BLACK;
    v.window_fill = Color32::BLACK;
    v.extreme_bg_color = Color32::BLACK;
    v.faint_bg_color = Color32::from_gray(28);
    v.widgets.noninteractive.bg_stroke = Stroke::new(1.5, Color32::from_gray(200));
    v.widgets.noninteractive.fg_stroke = Stroke::new(1.5, Color32::WHITE);
    v.widgets.inactive.bg_stroke = Stroke::new(1.5, Color32::WHITE);
    v.widgets.inactive.fg_stroke = Stroke::new(1.5, Color32::WHITE);
    v.widgets.hovered.bg_stroke = Stroke::new(2.0, Color32::YELLOW);
    v.selection.bg_fill = Color32::from_rgb(0, 90, 200);
    v.hyperlink_color = Color32::from_rgb(120, 200, 255);
    v
}
