//! UI tests with egui_kittest: the real app, headless, clicked through by label as a person
//! would, in one test binary. `kit` holds the clicking, typing and waiting helpers;
//! `tests/common/` the pre-generated keys. The rendered (wgpu) snapshots are a binary of
//! their own (`tests/snapshots/`).

#[path = "../common/mod.rs"]
mod common;
mod kit;

mod console;
mod fit;
mod history;
mod jump;
mod msgs;
mod navrow;
mod never_reveal;
mod notif;
mod recover;
mod rewound_forms;
mod scale;
mod status;
mod storm;
mod tables;
mod topology;
mod walk150;
mod walka;
