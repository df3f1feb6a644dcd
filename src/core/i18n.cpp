#include "velin/core/i18n.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include "velin/core/environment.hpp"

namespace velin {
namespace i18n_detail {
const std::unordered_map<std::string_view, std::string_view>& MoreGerman();  // i18n_german.cpp
const std::unordered_map<std::string_view, std::string_view>& HelpGerman();  // i18n_help_german.cpp
}  // namespace i18n_detail
namespace {

// German catalogue. Keys are the English messages exactly as the code writes them.
const std::unordered_map<std::string_view, std::string_view>& German() {
  static const std::unordered_map<std::string_view, std::string_view> kTable = {
      {"Creating backup...", "Erstelle Backup..."},
      {"Database backup created", "Datenbank-Backup erstellt"},
      {"File backup created", "Datei-Backup erstellt"},
      {"Backup compressed ({})", "Backup komprimiert ({})"},
      {"Backup ID: {}", "Backup-ID: {}"},
      {"cannot write a lock in {} ({}); reading without one",
       "kann in {} keine Sperre anlegen ({}); lese ohne Sperre"},
      {"Removed {} (an unreadable lock object)", "{} entfernt (ein unlesbares Sperrobjekt)"},
      {"Lock: {} is unreadable (not a lock this velin can read), {} old{}",
       "Sperre: {} ist unlesbar (keine Sperre, die dieses velin lesen kann), {} alt{}"},
      {"Restoring backup {}...", "Stelle Backup {} wieder her..."},
      {"Backup {} restored", "Backup {} wiederhergestellt"},
      {"Verifying backup {}...", "Prüfe Backup {}..."},
      {"Backup {} is intact", "Backup {} ist intakt"},
      // Offsite storage (velin backup copy, backup.offsite).
      {"Copying backups to {}...", "Kopiere Backups nach {}..."},
      {"{}, {} already there", "{}, {} bereits vorhanden"},
      {"{} backup copied", "{} Backup kopiert"},
      {"{} backups copied", "{} Backups kopiert"},
      {"{} ({}) copied, {} already there", "{} ({}) kopiert, {} bereits vorhanden"},
      {"Copied offsite to {}", "Nach {} ausgelagert"},
      {"(gave up after {} attempts)", "(nach {} Versuchen aufgegeben)"},
      {"(not retried: {})", "(nicht wiederholt: {})"},
      {"another backup", "ein anderes Backup"},
      {"a backup of host {}", "ein Backup von Host {}"},
      {"backup {} is in {} as {}: {} already holds {} there",
       "Backup {} liegt in {} als {}: dort trägt schon {} die ID {}"},
      {"Copying", "Kopiere"},
      {"Available versions:", "Verfügbare Versionen:"},
      {"Rolled back to {}", "Rollback zu {} durchgeführt"},
      {"Switched to {}", "Zu {} gewechselt"},
      {"Version {} created", "Version {} erstellt"},
      {"Snapshot {} created", "Snapshot {} erstellt"},
      {"Configuration {} is valid", "Konfiguration {} ist gültig"},
      {"environment variable {} is not a velin setting and is ignored",
       "Umgebungsvariable {} ist keine velin-Einstellung und wird ignoriert"},
      {"environment variable {} is not a velin setting and is ignored (did you mean '{}'?)",
       "Umgebungsvariable {} ist keine velin-Einstellung und wird ignoriert (meinten Sie '{}'?)"},
      // Rollback engine.
      {"Creating version {}...", "Erstelle Version {}..."},
      {"Creating snapshot {}...", "Erstelle Snapshot {}..."},
      {"Switching to {}...", "Wechsle zu {}..."},
      {"Switching back to {}...", "Wechsle zurück zu {}..."},
      {"hooks.{} failed ({})", "hooks.{} fehlgeschlagen ({})"},
      {"hooks.{} could not be run: {}", "hooks.{} konnte nicht gestartet werden: {}"},
      {"hooks.{} did not finish within {} and was killed",
       "hooks.{} wurde nicht innerhalb von {} fertig und wurde beendet"},
      {"{}; no backup was made", "{}; es wurde kein Backup erstellt"},
      {"{}; backup {} stands", "{}; Backup {} bleibt bestehen"},
      {"{}; rolling back to {} all the same", "{}; Rücksetzung auf {} trotzdem"},
      {"switch to {} not started: {}; nothing was changed",
       "Wechsel zu {} nicht begonnen: {}; nichts wurde geändert"},
      {"switch to {} not started: {}; nothing was changed (still {})",
       "Wechsel zu {} nicht begonnen: {}; nichts wurde geändert (weiterhin {})"},
      {"{}; the switch to {} stands", "{}; der Wechsel zu {} bleibt bestehen"},
      {"{}; the rollback to {} succeeded all the same",
       "{}; die Rücksetzung auf {} ist trotzdem gelungen"},
      {"Configuration from before the switch put back",
       "Konfiguration von vor dem Wechsel wiederhergestellt"},
      {"The configuration live before the switch is kept in {}",
       "Die vor dem Wechsel aktive Konfiguration ist aufbewahrt in {}"},
      {"Saved live configuration: {}", "Gesicherte Live-Konfiguration: {}"},
      {"Service stopped", "Dienst gestoppt"},
      {"Service started", "Dienst gestartet"},
      {"Health check passed", "Health-Check bestanden"},
      {"Configuration restored from the snapshot",
       "Konfiguration aus dem Snapshot wiederhergestellt"},
      {"Database migrated down to level {}", "Datenbank auf Stand {} zurückmigriert"},
      {"Transaction {} open until {} (base {})", "Transaktion {} offen bis {} (Basis {})"},
      {"Transaction {} extended until {}", "Transaktion {} verlängert bis {}"},
      {"Backing up the database for transaction {}...",
       "Sichere die Datenbank für Transaktion {}..."},
      {"Database backup {} taken for transaction {}",
       "Datenbanksicherung {} für Transaktion {} angelegt"},
      {"Database restored from backup {}", "Datenbank aus Sicherung {} wiederhergestellt"},
      {"restoring the database from backup {} failed: {}; starting the service all the same",
       "Wiederherstellen der Datenbank aus Sicherung {} fehlgeschlagen: {}; der Dienst wird "
       "trotzdem gestartet"},
      {"Database: {}", "Datenbank: {}"},
      {"database: {}", "Datenbank: {}"},
      {"Database backup {} (taken while {} was live)",
       "Datenbanksicherung {} (angelegt, als {} live war)"},
      {"Roll back and replace the database with the backup taken at begin, losing the writes "
       "made since?",
       "Zurücksetzen und die Datenbank durch die Sicherung vom Beginn ersetzen? Seither "
       "geschriebene Daten gehen verloren."},
      {"Switch to {} and replace the database with the backup ({}), losing the writes made "
       "since?",
       "Zu {} wechseln und die Datenbank durch die Sicherung ({}) ersetzen? Seither geschriebene "
       "Daten gehen verloren."},
      {"the code is on {} and the service started, but restoring the database from backup {} "
       "failed: {}; retry with: {}",
       "der Code ist auf {} und der Dienst läuft, aber das Wiederherstellen der Datenbank aus "
       "Sicherung {} ist fehlgeschlagen: {}; erneut versuchen mit: {}"},
      {"transaction {} {} (back to {}, service started), but restoring the database from "
       "backup {} failed: {}; retry with: {}",
       "Transaktion {} {} (zurück auf {}, Dienst läuft), aber das Wiederherstellen der "
       "Datenbank aus Sicherung {} ist fehlgeschlagen: {}; erneut versuchen mit: {}"},
      {"Transaction (version)", "Transaktion (Version)"},
      {"transaction backup", "Transaktionssicherung"},
      {"Transaction {} committed", "Transaktion {} bestätigt"},
      {"Rolling back transaction {} to {}...", "Setze Transaktion {} auf {} zurück..."},
      {"No open transaction", "Keine offene Transaktion"},
      {"Nothing to recover", "Nichts wiederherzustellen"},
      {"Adopted as {}", "Übernommen als {}"},
      {"transaction base", "Transaktionsbasis"},
      {"(none yet)", "(noch keine)"},
      // Rollback: list, history, status, plans (issue 14).
      {"{} own", "{} eigen"},
      {"failed", "fehlgeschlagen"},
      {"failed {}", "fehlgeschlagen {}"},
      {"No history yet: nothing was switched, adopted or pruned",
       "Noch kein Verlauf: nichts wurde gewechselt, übernommen oder entfernt"},
      {"Switch {} {} {} in progress (another velin holds the lock)",
       "Wechsel {} {} {} läuft (ein anderes velin hält die Sperre)"},
      {"Interrupted switch {} {} {}: run 'velin rollback recover'",
       "Unterbrochener Wechsel {} {} {}: 'velin rollback recover' ausführen"},
      {"transaction {} expired at {}: rolling it back to {} first",
       "Transaktion {} ist seit {} abgelaufen: setze sie zuerst auf {} zurück"},
      {"transaction {}: finishing its interrupted rollback to {} first",
       "Transaktion {}: beende zuerst ihre unterbrochene Rücksetzung auf {}"},
      {"{} has expired: rolling it back first", "{} ist abgelaufen: wird zuerst zurückgesetzt"},
      {"Pruned {}, the base of an ended transaction",
       "{} entfernt (Basis einer beendeten Transaktion)"},
      {"pruned version {} (keep_versions = {}; it is gone for good)",
       "Version {} entfernt (keep_versions = {}; sie ist endgültig weg)"},
      {"{}; ignored", "{}; ignoriert"},
      {"{}; release {} was not checked", "{}; Release {} wurde nicht geprüft"},
      {"release {}: {} file(s) no longer hold what it recorded (first: {}; edited in place?); the "
       "switch would put back {} from identical files of other releases",
       "Release {}: {} Datei(en) enthalten nicht mehr, was es festhielt (erste: {}; an Ort und "
       "Stelle bearbeitet?); der Wechsel würde {} aus identischen Dateien anderer Releases "
       "wiederherstellen"},
      {"release {}: {} file(s) no longer held what it recorded (first: {}; edited in place?): put "
       "back from identical files of other releases",
       "Release {}: {} Datei(en) enthielten nicht mehr, was es festhielt (erste: {}; an Ort und "
       "Stelle bearbeitet?): aus identischen Dateien anderer Releases wiederhergestellt"},
      {"release {}: {} file(s) no longer hold what it recorded (first: {}; edited in place? "
       "Releases share identical files by hard links, so a file edited inside current/ changed "
       "every release holding it), {} put back from other releases; switching to it as it is",
       "Release {}: {} Datei(en) enthalten nicht mehr, was es festhielt (erste: {}; an Ort und "
       "Stelle bearbeitet? Releases teilen identische Dateien über Hardlinks, also änderte eine "
       "in current/ bearbeitete Datei jedes Release, das sie enthält), {} aus anderen Releases "
       "wiederhergestellt; es wird so gewechselt, wie es ist"},
      {"{} changed while it was being copied (a build still writing it?); nothing was created: "
       "run the command again",
       "{} hat sich beim Kopieren geändert (schreibt ein Build noch daran?); nichts wurde "
       "angelegt: den Befehl erneut ausführen"},
      {"{} file(s) stored in earlier releases no longer hold what their versions recorded "
       "(first: {}): edited in place? Releases share identical files by hard links, so a file "
       "edited inside current/ changed every release holding it; the new version got its own "
       "copy",
       "{} in früheren Releases gespeicherte Datei(en) enthalten nicht mehr, was ihre Versionen "
       "festhielten (erste: {}): an Ort und Stelle bearbeitet? Releases teilen identische "
       "Dateien über Hardlinks, also änderte eine in current/ bearbeitete Datei jedes Release, "
       "das sie enthält; die neue Version bekam eine eigene Kopie"},
      {"Removed release {}: an interrupted prune or create-version left it unregistered",
       "Release {} entfernt: ein unterbrochenes prune oder create-version ließ es "
       "unregistriert zurück"},
      {"The live files equal base {}: reusing it",
       "Die Live-Dateien entsprechen Basis {}: sie wird wiederverwendet"},
      {"Plan for {} {} {} (dry run: nothing is changed)",
       "Plan für {} {} {} (Probelauf: nichts wird geändert)"},
      {"none configured", "nicht konfiguriert"},
      {"config files: not touched (a version holds none)",
       "Konfigurationsdateien: unverändert (eine Version enthält keine)"},
      {"config files: the snapshot's equal the live ones",
       "Konfigurationsdateien: die des Snapshots entsprechen den aktuellen"},
      {"config files: {} added, {} changed, {} removed",
       "Konfigurationsdateien: {} neu, {} geändert, {} entfernt"},
      {"migrate_down: to level {} (live level {})", "migrate_down: auf Stand {} (aktuell {})"},
      {"migrate_down: not run ({})", "migrate_down: läuft nicht ({})"},
      {"migrate_down: not needed", "migrate_down: nicht nötig"},
      {"health: none configured (the switch is not verified)",
       "health: nicht konfiguriert (der Wechsel wird nicht geprüft)"},
      {"health: {} (up to {}; on failure back to {})",
       "health: {} (bis zu {}; bei Fehlschlag zurück zu {})"},
      {"transaction {} has expired: it would be rolled back to {} first",
       "Transaktion {} ist abgelaufen: sie würde zuerst auf {} zurückgesetzt"},
      {"{} failed its health check at {}", "{} hat den Health-Check um {} nicht bestanden"},
      {"{}: access tightened to 0711 (others may not list it)",
       "{}: Zugriff auf 0711 beschränkt (andere können es nicht auflisten)"},
      // Backup engine (create, list, restore, verify).
      {"Backing up", "Sichere"},
      {"Restoring", "Stelle wieder her"},
      {"Verifying", "Prüfe"},
      {"Stream {} backed up", "Stream {} gesichert"},
      {"{} files, {} read, {} added", "{} Dateien, {} gelesen, {} hinzugefügt"},
      {"{} file, {} read, {} added", "{} Datei, {} gelesen, {} hinzugefügt"},
      {"Repository created at {}", "Repository in {} angelegt"},
      {"No backups yet", "Noch keine Backups"},
      {"Backups:", "Backups:"},
      {"Time", "Zeit"},
      {"Strategy", "Strategie"},
      {"Files", "Dateien"},
      {"Size", "Größe"},
      {"Added", "Neu"},
      {"Sources", "Quellen"},
      // Many hosts and apps in one repository (docs/cli.md, "Hosts and applications").
      {"Host", "Host"},
      {"App", "App"},
      {"{} backup(s) of other hosts or apps not shown (--all shows them)",
       "{} Backup(s) anderer Hosts oder Apps nicht gezeigt (--all zeigt sie)"},
      {"Host {}, app {}, sources {}:", "Host {}, App {}, Quellen {}:"},
      {"Host {}, app {}, sources {}, deploy transactions:",
       "Host {}, App {}, Quellen {}, Deploy-Transaktionen:"},
      {"Backups of host {}, app {} (--all: every host and app)",
       "Backups von Host {}, App {} (--all: alle Hosts und Apps)"},
      {"Backups of host {}, app {}: {} (of {} in the repository)",
       "Backups von Host {}, App {}: {} (von {} im Repository)"},
      {"the repository holds no backup of host '{}', app '{}' ({} of other hosts or apps)",
       "das Repository enthält kein Backup von Host '{}', App '{}' ({} anderer Hosts oder Apps)"},
      {"Restored {} files ({}) into {}", "{} Dateien ({}) nach {} wiederhergestellt"},
      {"Verifying backups...", "Prüfe Backups..."},
      {"{} backup(s) intact: {} blobs in {} packs checked",
       "{} Backup(s) intakt: {} Blobs in {} Packs geprüft"},
      {"verify found {} problem(s) in {}: {}", "Prüfung fand {} Problem(e) in {}: {}"},
      {"restore cancelled", "Wiederherstellung abgebrochen"},
      {"Restore backup {} in place into {}, overwriting files there?",
       "Backup {} direkt nach {} wiederherstellen und dortige Dateien überschreiben?"},
      {"skipped {} (not a file, directory or symlink)",
       "{} übersprungen (weder Datei noch Verzeichnis noch Symlink)"},
      // Database (docs/databases.md).
      {"Replace {} with the one from backup {}?", "{} durch die aus Backup {} ersetzen?"},
      {"Restoring database from backup {}...", "Stelle Datenbank aus Backup {} wieder her..."},
      // More databases ([databases.NAME], "db:NAME": docs/databases.md#several-databases).
      {"Database '{}' backup created", "Backup der Datenbank '{}' erstellt"},
      {"Restoring database '{}' from backup {}...",
       "Stelle Datenbank '{}' aus Backup {} wieder her..."},
      {"Restore test of database '{}' of backup {}...",
       "Wiederherstellungstest der Datenbank '{}' von Backup {}..."},
      {"Restore test of database '{}' passed: {} tables, row counts match",
       "Wiederherstellungstest der Datenbank '{}' bestanden: {} Tabellen, Zeilenzahlen stimmen"},
      {"Restore test of database '{}' passed: {} table, row count matches",
       "Wiederherstellungstest der Datenbank '{}' bestanden: {} Tabelle, Zeilenzahl stimmt"},
      {"The databases ({}) would be dumped; a dry run does not dump them",
       "Die Datenbanken ({}) würden gesichert; ein Probelauf sichert sie nicht"},
      {"backup {} holds no database '{}'", "Backup {} enthält keine Datenbank '{}'"},
      {"backup {} holds no usable dump of database '{}': {}",
       "Backup {} enthält keinen verwendbaren Dump der Datenbank '{}': {}"},
      {"password of {}", "Passwort von {}"},
      {"Database restored into {}", "Datenbank in {} wiederhergestellt"},
      {"Database restored into '{}' at {}", "Datenbank in '{}' auf {} wiederhergestellt"},
      {"Restore test of the database of backup {}...",
       "Wiederherstellungstest der Datenbank von Backup {}..."},
      {"Database restore test passed: {} tables, row counts match",
       "Wiederherstellungstest der Datenbank bestanden: {} Tabellen, Zeilenzahlen stimmen"},
      {"Restore test of the files of backup {} passed ({} files)",
       "Wiederherstellungstest der Dateien von Backup {} bestanden ({} Dateien)"},
      {"table", "Tabelle"},
      {"recorded", "gesichert"},
      {"restored", "wiederhergestellt"},
      {"missing", "fehlt"},
      {"current", "aktuell"},
      {"Key {} added", "Schlüssel {} hinzugefügt"},
      {"Key {} removed", "Schlüssel {} entfernt"},
      {"Passphrase changed: key {} replaces key {}",
       "Passphrase geändert: Schlüssel {} ersetzt Schlüssel {}"},
      {"Created", "Erstellt"},
      {"User@host", "Benutzer@Host"},
      {"error", "Fehler"},
      {"warning", "Warnung"},
      // Retention (backup forget) and monitoring.
      {"no retention rule", "keine Aufbewahrungsregel"},
      {"within {} days", "jünger als {} Tage"},
      {"last", "letzte"},
      {"daily", "täglich"},
      {"weekly", "wöchentlich"},
      {"monthly", "monatlich"},
      {"yearly", "jährlich"},
      {"newest", "neuestes"},
      {"dated in the future", "in der Zukunft datiert"},
      {"just created", "eben erstellt"},
      {"complete backup", "vollständige Sicherung"},
      {"(without the database)", "(ohne die Datenbank)"},
      {"monitor ping ({}) to {} failed: {}", "Monitoring-Ping ({}) an {} fehlgeschlagen: {}"},
      {"notification to {} failed: {}", "Benachrichtigung an {} fehlgeschlagen: {}"},
      {"notification command failed: {}", "Benachrichtigungsbefehl fehlgeschlagen: {}"},
      {"no answer within {}", "keine Antwort innerhalb von {}"},
      {"metrics file {} is damaged ({}); starting it afresh",
       "Metrik-Datei {} ist beschädigt ({}); sie wird neu angelegt"},
      {"{} failed: {}", "{} fehlgeschlagen: {}"},
      {"keep", "behalten"},
      {"forget", "vergessen"},
      {"Applying the retention rules...", "Wende die Aufbewahrungsregeln an..."},
      {"Applying the retention rules (dry run)...",
       "Wende die Aufbewahrungsregeln an (Probelauf)..."},
      {"Rules: {}", "Regeln: {}"},
      {"{} of {} backups would be forgotten, {} kept (dry run)",
       "{} von {} Backups würden vergessen, {} behalten (Probelauf)"},
      {"{} of {} backups forgotten, {} kept", "{} von {} Backups vergessen, {} behalten"},
      {"no retention rule is set in [backup]: every backup is kept",
       "keine Aufbewahrungsregel in [backup]: alle Backups bleiben"},
      {"no retention rule is set in [backup]: every backup is kept, except deploy "
       "transactions' backups beyond the last {} (rollback.keep_transaction_backups)",
       "keine Aufbewahrungsregel in [backup]: alle Backups bleiben, außer Backups von "
       "Deploy-Transaktionen über die letzten {} hinaus (rollback.keep_transaction_backups)"},
      {"{}: {} (left alone)", "{}: {} (bleibt unangetastet)"},
      {"forgetting backup {}", "beim Vergessen von Backup {}"},
      // backup prune / status / unlock
      {"Pruning unused data...", "Entferne ungenutzte Daten..."},
      {"Looking for unused data (dry run)...", "Suche ungenutzte Daten (Probelauf)..."},
      {"Nothing to prune", "Nichts zu entfernen"},
      {"Freed {}", "{} freigegeben"},
      {"{} backup references {}", "{} Backup verweist auf {}"},
      {"{} backups reference {}", "{} Backups verweisen auf {}"},
      {"Deleted {} and repacked {} of {} ({}, {})",
       "{0} gelöscht und {1} neu gepackt von {2} ({3}, {4})"},
      {"{} pack", "{} Pack"},
      {"{} packs", "{} Packs"},
      {"{} blob removed", "{} Blob entfernt"},
      {"{} blobs removed", "{} Blobs entfernt"},
      {"{} new pack", "{} neues Pack"},
      {"{} new packs", "{} neue Packs"},
      {"{} index object", "{} Indexobjekt"},
      {"{} index objects", "{} Indexobjekte"},
      {"{} blob copied again", "{} Blob erneut kopiert"},
      {"{} blobs copied again", "{} Blobs erneut kopiert"},
      {"Backups are up to date", "Backups sind aktuell"},
      {"the repository holds no backup", "das Repository enthält kein Backup"},
      {"{} lock(s) removed, {} left", "{} Sperre(n) entfernt, {} verbleibend"},
      {"unlock cancelled; no lock removed", "Entsperren abgebrochen; keine Sperre entfernt"},
      // Symlinked and empty include paths
      {"backup.include '{}' holds no files (a mount that is missing?); list it in "
       "backup.allow_empty if that is expected",
       "backup.include '{}' enthält keine Dateien (fehlt ein Mount?); in backup.allow_empty "
       "eintragen, wenn das so sein soll"},
      {"the newest backup {} holds no files of '{}' (list it in backup.allow_empty if that is "
       "expected)",
       "das neueste Backup {} enthält keine Dateien von '{}' (in backup.allow_empty eintragen, "
       "wenn das so sein soll)"},
      {"backup.include '{}': {} is a symlink to {}; backups follow it and an in-place restore "
       "writes behind it",
       "backup.include '{}': {} ist ein Symlink auf {}; Backups folgen ihm, und eine "
       "Wiederherstellung an Ort und Stelle schreibt dahinter"},
      // velin rollback --fleet (docs/rollback.md#fleet).
      {"ok", "ok"},
      {"current {}", "aktuell {}"},
      {"no open transaction", "keine offene Transaktion"},
      {"transaction {} {}, {} left", "Transaktion {} {}, noch {}"},
      {"Opening a transaction on {}...", "Öffne eine Transaktion auf {}..."},
      {"transaction {} open until {} (base {})", "Transaktion {} offen bis {} (Basis {})"},
      {"fleet begin failed on {} ({})", "Flotten-begin auf {} fehlgeschlagen ({})"},
      {"open on {}: it rolls back at its deadline, or now with 'velin rollback --fleet rollback'",
       "offen auf {}: wird zur Frist zurückgesetzt, oder sofort mit 'velin rollback --fleet "
       "rollback'"},
      {"its state is unknown: {}", "sein Zustand ist unbekannt: {}"},
      {"switched to {}; nothing to switch back to (no version was live)",
       "auf {} umgeschaltet; kein Zurück möglich (vorher lief keine Version)"},
      {"switched to {}; switching back to {} failed: {}",
       "auf {} umgeschaltet; Zurückschalten auf {} fehlgeschlagen: {}"},
      {"switched back to {} (after {})", "zurück auf {} (nach {})"},
      {"not switched (on {})", "nicht umgeschaltet (auf {})"},
      {"fleet to-version {}: no host switched: {} did not answer ({})",
       "Flotten-to-version {}: kein Host umgeschaltet: {} hat nicht geantwortet ({})"},
      {"Switching {} to {}...", "Schalte {} auf {} um..."},
      {"fleet to-version {}: no host switched: {} failed ({})",
       "Flotten-to-version {}: kein Host umgeschaltet: {} fehlgeschlagen ({})"},
      {"{} failed: switching every host back", "{} fehlgeschlagen: schalte jeden Host zurück"},
      {"fleet to-version {} failed on {} ({}); every host is back on the version it ran before",
       "Flotten-to-version {} auf {} fehlgeschlagen ({}); jeder Host läuft wieder mit seiner "
       "vorherigen Version"},
      {"fleet to-version {} failed on {} ({}) and {} could not be put back: see 'velin rollback "
       "--fleet status'",
       "Flotten-to-version {} auf {} fehlgeschlagen ({}) und {} konnte nicht zurückgeschaltet "
       "werden: siehe 'velin rollback --fleet status'"},
      {"{} -> {} (dry run)", "{} -> {} (Probelauf)"},
      {"fleet to-version {} --dry-run: {} cannot switch ({})",
       "Flotten-to-version {} --dry-run: {} kann nicht umschalten ({})"},
      {"nothing to commit: {}", "nichts zu bestätigen: {}"},
      {"not committed: {}", "nicht bestätigt: {}"},
      {"fleet commit: nothing committed, {} cannot commit ({}); every host rolls back at its "
       "deadline (now: 'velin rollback --fleet rollback'; or commit again before the deadline)",
       "Flotten-commit: nichts bestätigt, {} kann nicht bestätigen ({}); jeder Host wird zu "
       "seiner Frist zurückgesetzt (sofort: 'velin rollback --fleet rollback'; oder vor der "
       "Frist erneut bestätigen)"},
      {"transaction {} committed", "Transaktion {} bestätigt"},
      {"fleet commit reached only {}: {} not committed ({}): it rolls back at its deadline by "
       "itself",
       "Flotten-commit erreichte nur {}: {} nicht bestätigt ({}): wird zu seiner Frist von "
       "selbst zurückgesetzt"},
      {"transaction {} {} (back to {})", "Transaktion {} {} (zurück auf {})"},
      {"fleet rollback failed on {} ({})", "Flotten-rollback auf {} fehlgeschlagen ({})"},
      {"a host not reached rolls back at its deadline",
       "ein nicht erreichter Host wird zu seiner Frist zurückgesetzt"},
      {"fleet status: {} did not answer ({})", "Flotten-status: {} hat nicht geantwortet ({})"},
      {"an empty host", "ein leerer Host"},
      {"\"{}\" starts with '-' (ssh would take it for an option)",
       "\"{}\" beginnt mit '-' (ssh hielte es für eine Option)"},
      {"\"{}\" holds a space, quote or control character (not an ssh destination)",
       "\"{}\" enthält ein Leer-, Anführungs- oder Steuerzeichen (kein ssh-Ziel)"},
      {"\"{}\" names a config but no host", "\"{}\" nennt eine Konfiguration, aber keinen Host"},
      {"no answer within {} (fleet.command_timeout): ssh was stopped",
       "keine Antwort binnen {} (fleet.command_timeout): ssh wurde beendet"},
      {"ssh refused {}: its host key is not the one known_hosts holds for it (or it is not "
       "there); check its fingerprint and add it (ssh-keyscan)",
       "ssh verweigert {}: sein Host-Schlüssel ist nicht der in known_hosts (oder fehlt dort); "
       "Fingerabdruck prüfen und eintragen (ssh-keyscan)"},
      {"ssh to {} failed: {}", "ssh zu {} fehlgeschlagen: {}"},
      {"velin on {} did not answer ({}): {}", "velin auf {} hat nicht geantwortet ({}): {}"},
      {"--fleet needs [fleet] hosts in {} (docs/config.md#fleet)",
       "--fleet braucht [fleet] hosts in {} (docs/config.md#fleet)"},
      {"--fleet does not pass {} to the hosts; set rollback.backup_on_begin and "
       "rollback.restore_data_on_timeout in each host's velin.toml instead",
       "--fleet gibt {} nicht an die Hosts weiter; setzen Sie stattdessen rollback.backup_on_begin "
       "und rollback.restore_data_on_timeout in der velin.toml jedes Hosts"},
      {"--fleet works with begin, to-version, commit, rollback and status, not '{}'",
       "--fleet geht mit begin, to-version, commit, rollback und status, nicht mit '{}'"},
  };
  return kTable;
}

bool g_german = false;
std::string g_report_path;  // VELIN_I18N_REPORT_MISSES; "" when not reporting

struct MissReport {
  std::mutex mu;
  std::unordered_set<std::string> translated;  // texts the catalogue or NoTr produced
  std::unordered_set<std::string> english;     // error texts built without it
  std::unordered_set<std::string> recorded;    // lines written already
};

MissReport& Report() {
  static MissReport* report = new MissReport;  // outlives static destructors
  return *report;
}

// Appends "kind\ttext" once per process; one write(2) with O_APPEND, so several velin
// processes may share the file.
void RecordLocked(MissReport& r, std::string_view kind, std::string_view text) {
  std::string line = std::string(kind) + "\t";
  for (char c : text) line += c == '\n' ? std::string("\\n") : std::string(1, c);
  if (!r.recorded.insert(line).second) return;
  line += '\n';
  int fd = ::open(g_report_path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return;
  ssize_t ignored = ::write(fd, line.data(), line.size());
  (void)ignored;
  ::close(fd);
}

// velin's German texts are UTF-8: a locale naming another codeset (de_DE.ISO-8859-1), or
// de_DE@euro without one (traditionally ISO-8859-15), would show them as mojibake ("PrÃ¼fe").
bool LocaleIsUtf8OrUnnamed(std::string_view locale) {
  const size_t at = locale.find('@');
  const std::string_view modifier = at == std::string_view::npos ? "" : locale.substr(at + 1);
  const std::string_view name = locale.substr(0, at);
  const size_t dot = name.find('.');
  if (dot == std::string_view::npos) return modifier != "euro";
  std::string codeset;
  for (char c : name.substr(dot + 1)) {
    if (c != '-' && c != '_')
      codeset += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return codeset == "utf8";
}

bool LanguageIsGerman() {
  // POSIX precedence: LC_ALL, then LC_MESSAGES, then LANG.
  for (const char* var : {"LC_ALL", "LC_MESSAGES", "LANG"}) {
    const std::string value = GetEnvironment(var).value_or("");
    if (!value.empty()) {
      std::string_view v(value);
      return v.substr(0, 2) == "de" && LocaleIsUtf8OrUnnamed(v);
    }
  }
  return false;
}

}  // namespace

void InitLanguageFromEnvironment() {
  g_german = LanguageIsGerman();
  g_report_path = GetEnvironment("VELIN_I18N_REPORT_MISSES").value_or("");
}

void UseEnglish() { g_german = false; }

std::vector<std::pair<std::string_view, std::string_view>> GermanCatalogueEntries() {
  std::vector<std::pair<std::string_view, std::string_view>> out;
  for (const auto* table : {&German(), &i18n_detail::MoreGerman(), &i18n_detail::HelpGerman()}) {
    out.insert(out.end(), table->begin(), table->end());
  }
  return out;
}

bool ReportingMisses() { return g_german && !g_report_path.empty(); }

std::string_view Tr(std::string_view english) {
  if (!g_german) return english;
  const auto& table = German();
  auto it = table.find(english);
  bool found = it != table.end();
  std::string_view text = found ? it->second : english;
  for (const auto* more : {&i18n_detail::MoreGerman(), &i18n_detail::HelpGerman()}) {
    if (found) break;
    auto more_it = more->find(english);
    found = more_it != more->end();
    if (found) text = more_it->second;
  }
  if (!g_report_path.empty()) {
    MissReport& r = Report();
    std::lock_guard lock(r.mu);
    if (!found) RecordLocked(r, "tr", english);
    r.translated.emplace(text);
  }
  return text;
}

std::string NoteTranslated(std::string text) {
  if (ReportingMisses()) {
    MissReport& r = Report();
    std::lock_guard lock(r.mu);
    r.translated.insert(text);
  }
  return text;
}

void NoteErrorText(std::string_view text) {
  if (!ReportingMisses() || text.empty()) return;
  MissReport& r = Report();
  std::lock_guard lock(r.mu);
  if (r.translated.count(std::string(text)) == 0) r.english.emplace(text);
}

namespace {

bool HasLetter(std::string_view text) {
  for (char c : text) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  }
  return false;
}

// `text` is a translated (or language-free) text, maybe with decoration around it that holds
// no word: "  1. " + TrFormat(...), "  [" + Tr(...) + "]".
bool Covered(const MissReport& r, std::string_view text) {
  if (r.translated.count(std::string(text)) != 0) return true;
  for (const std::string& t : r.translated) {
    if (t.size() < 2 || t.size() > text.size()) continue;
    for (size_t at = text.find(t); at != std::string_view::npos; at = text.find(t, at + 1)) {
      if (!HasLetter(text.substr(0, at)) && !HasLetter(text.substr(at + t.size()))) return true;
    }
  }
  return false;
}

}  // namespace

void CheckShown(std::string_view text) {
  if (!ReportingMisses() || text.empty()) return;
  MissReport& r = Report();
  std::lock_guard lock(r.mu);
  if (!Covered(r, text)) {
    RecordLocked(r, "shown", text);
    return;
  }
  for (const std::string& english : r.english) {
    if (text.find(english) != std::string_view::npos) RecordLocked(r, "english", english);
  }
}

}  // namespace velin
