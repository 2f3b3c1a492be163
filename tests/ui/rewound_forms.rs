//! Forms after a change they did not make (Rewind to here, Undo, Redo, the Cloud Shell): a
//! form with no unsaved edits shows the workspace as it is now; one with unsaved edits keeps
//! them and says the server changed meanwhile.

use crate::kit::*;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use tde_console::model::ServerKeyType;
use tde_console::ui::ConsoleApp;

/// Whether the radio button (or toggle) labelled `label` is on.
fn on(h: &Harness<'static, ConsoleApp>, label: &str) -> bool {
    h.get_by_label(label).accesskit_node().toggled() == Some(egui::accesskit::Toggled::True)
}

fn protector(h: &Harness<'static, ConsoleApp>) -> ServerKeyType {
    h.state()
        .ws
        .server("sql-contoso-eu")
        .expect("the server")
        .protector
        .key_type
}

/// What the TDE blade's form says under Save.
fn tde_message(h: &Harness<'static, ConsoleApp>) -> Option<Result<String, String>> {
    h.state().blades.iter().find_map(|b| match &b.kind {
        tde_console::ui::blades::BladeKind::ServerTde { form, .. } => form.message.clone(),
        _ => None,
    })
}

/// The vault the TDE blade's form has chosen.
fn tde_vault(h: &Harness<'static, ConsoleApp>) -> Option<String> {
    h.state().blades.iter().find_map(|b| match &b.kind {
        tde_console::ui::blades::BladeKind::ServerTde { form, .. } => Some(form.vault.clone()),
        _ => None,
    })
}

fn save(h: &mut Harness<'static, ConsoleApp>) {
    click(h, "Save");
    wait_until(h, "the save", |app| !app.busy());
    h.run_steps(3);
}

/// The walk (issue 23): save service-managed, save customer-managed, then rewind to the
/// service-managed point: the blade kept "Customer-managed key / kv-contoso-eu /
/// eu-tde-key" while the server used a service-managed key.
#[test]
fn after_a_rewind_the_tde_form_shows_the_protector_the_server_has() {
    let mut h = app();
    h.run_steps(2);
    click(&mut h, "sql-contoso-eu");
    click(&mut h, "Transparent data encryption");
    click(&mut h, "Service-managed key");
    save(&mut h);
    assert_eq!(protector(&h), ServerKeyType::ServiceManaged);
    choose_eu_tde_key(&mut h);
    save(&mut h);
    // The vault's access policies lack the server: granted as the blade offers, saved again.
    click(
        &mut h,
        "Grant the server's identity access to the key (get, wrapKey, unwrapKey)",
    );
    wait_until(&mut h, "the grant", |app| !app.busy());
    save(&mut h);
    assert_eq!(protector(&h), ServerKeyType::AzureKeyVault);
    assert!(on(&h, "Customer-managed key"));
    click(&mut h, "Edit");
    click(&mut h, "History and bookmarks…");
    // The newest point before now: the grant, with the service-managed key.
    h.get_all_by_label("Rewind to here")
        .next()
        .expect("an earlier point")
        .click();
    h.run_steps(3);
    assert_eq!(protector(&h), ServerKeyType::ServiceManaged, "rewound");
    assert!(
        on(&h, "Service-managed key") && !on(&h, "Customer-managed key"),
        "the form shows the server's service-managed key"
    );
    assert!(
        !has(&h, "Make this key the default TDE protector"),
        "no key is picked for it"
    );
    assert_eq!(
        tde_message(&h),
        None,
        "nothing the blade said before the rewind stays"
    );

    // Redo: the customer-managed key again, and the form follows.
    click(&mut h, "Redo");
    h.run_steps(3);
    assert_eq!(protector(&h), ServerKeyType::AzureKeyVault, "redone");
    assert!(on(&h, "Customer-managed key"), "the form follows the redo");
    assert!(
        has(&h, "Make this key the default TDE protector") && has(&h, "eu-tde-key"),
        "with the key the server uses"
    );

    // An unsaved choice is the person's: an undo keeps it, and says the server changed.
    click(&mut h, "Key vault");
    click(&mut h, "kv-contoso-us (eastus)");
    click(&mut h, "Undo");
    h.run_steps(3);
    assert_eq!(protector(&h), ServerKeyType::ServiceManaged, "undone");
    assert!(
        on(&h, "Customer-managed key"),
        "the unsaved choice is kept through the undo"
    );
    assert_eq!(
        tde_vault(&h).as_deref(),
        Some("kv-contoso-us"),
        "with the vault the person picked"
    );
    assert!(
        has(
            &h,
            "The server's TDE protector changed since you began editing"
        ),
        "and the form says the server changed meanwhile"
    );
    click(&mut h, "Discard");
    assert!(
        on(&h, "Service-managed key"),
        "Discard shows the server as it is"
    );
    assert!(!has(&h, "changed since you began editing"));
}
