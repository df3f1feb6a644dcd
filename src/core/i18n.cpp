#include "velin/core/i18n.hpp"

#include <cstdlib>
#include <string>
#include <unordered_map>

namespace velin {
namespace {

// German catalogue. Keys are the English messages exactly as the code writes them.
const std::unordered_map<std::string_view, std::string_view>& German() {
  static const std::unordered_map<std::string_view, std::string_view> kTable = {
      {"Creating backup...", "Erstelle Backup..."},
      {"Database backup created", "Datenbank-Backup erstellt"},
      {"File backup created", "Datei-Backup erstellt"},
      {"Backup compressed ({})", "Backup komprimiert ({})"},
      {"Backup ID: {}", "Backup-ID: {}"},
      {"Restoring backup {}...", "Stelle Backup {} wieder her..."},
      {"Backup {} restored", "Backup {} wiederhergestellt"},
      {"Verifying backup {}...", "Prüfe Backup {}..."},
      {"Backup {} is intact", "Backup {} ist intakt"},
      // Offsite storage (velin backup copy, backup.offsite).
      {"Copying backups to {}...", "Kopiere Backups nach {}..."},
      {"{} backups copied, {} already there", "{} Backups kopiert, {} bereits vorhanden"},
      {"{} blobs ({}) copied, {} already there", "{} Blobs ({}) kopiert, {} bereits vorhanden"},
      {"Copied offsite to {}", "Nach {} ausgelagert"},
      {"Copying", "Kopiere"},
      {"backup {} was created, but the offsite copy to {} failed",
       "Backup {} wurde erstellt, aber die Kopie nach {} ist fehlgeschlagen"},
      {"Available versions:", "Verfügbare Versionen:"},
      {"Rolled back to {}", "Rollback zu {} durchgeführt"},
      {"Switched to {}", "Zu {} gewechselt"},
      {"Version {} created", "Version {} erstellt"},
      {"Snapshot {} created", "Snapshot {} erstellt"},
      {"Configuration {} is valid", "Konfiguration {} ist gültig"},
      // Rollback engine.
      {"Creating version {}...", "Erstelle Version {}..."},
      {"Creating snapshot {}...", "Erstelle Snapshot {}..."},
      {"Switching to {}...", "Wechsle zu {}..."},
      {"Switching back to {}...", "Wechsle zurück zu {}..."},
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
      {"Transaction {} committed", "Transaktion {} bestätigt"},
      {"Rolling back transaction {} to {}...", "Setze Transaktion {} auf {} zurück..."},
      {"No open transaction", "Keine offene Transaktion"},
      {"Nothing to recover", "Nichts wiederherzustellen"},
      {"Adopted as {}", "Übernommen als {}"},
      {"transaction base", "Transaktionsbasis"},
      {"(none yet)", "(noch keine)"},
      // Backup engine (create, list, restore, verify).
      {"Backing up", "Sichere"},
      {"Restoring", "Stelle wieder her"},
      {"Verifying", "Prüfe"},
      {"Stream {} backed up", "Stream {} gesichert"},
      {"{} files, {} read, {} added", "{} Dateien, {} gelesen, {} hinzugefügt"},
      {"Repository created at {}", "Repository in {} angelegt"},
      {"No backups yet", "Noch keine Backups"},
      {"Backups:", "Backups:"},
      {"Time", "Zeit"},
      {"Strategy", "Strategie"},
      {"Files", "Dateien"},
      {"Size", "Größe"},
      {"Added", "Neu"},
      {"Sources", "Quellen"},
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
      {"Database restored into {}", "Datenbank in {} wiederhergestellt"},
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
      {"monitor ping ({}) to {} failed: {}", "Monitoring-Ping ({}) an {} fehlgeschlagen: {}"},
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
      {"{}: {} (left alone)", "{}: {} (bleibt unangetastet)"},
      {"forgetting backup {}", "beim Vergessen von Backup {}"},
      // backup prune / status / unlock
      {"Pruning unused data...", "Entferne ungenutzte Daten..."},
      {"Looking for unused data (dry run)...", "Suche ungenutzte Daten (Probelauf)..."},
      {"Nothing to prune", "Nichts zu entfernen"},
      {"Freed {}", "{} freigegeben"},
      {"{} backups reference {} blobs", "{} Backups verweisen auf {} Blobs"},
      {"Deleted {} and repacked {} of {} packs ({} blobs removed, {} new packs)",
       "{0} gelöscht und {1} neu gepackt von {2} Packs ({3} Blobs entfernt, {4} neue Packs)"},
      {"Backups are up to date", "Backups sind aktuell"},
      {"the repository holds no backup", "das Repository enthält kein Backup"},
      {"{} lock(s) removed, {} left", "{} Sperre(n) entfernt, {} verbleibend"},
      {"unlock cancelled; no lock removed", "Entsperren abgebrochen; keine Sperre entfernt"},
  };
  return kTable;
}

bool g_german = false;

bool LanguageIsGerman() {
  // POSIX precedence: LC_ALL, then LC_MESSAGES, then LANG.
  for (const char* var : {"LC_ALL", "LC_MESSAGES", "LANG"}) {
    const char* value = std::getenv(var);
    if (value != nullptr && *value != '\0') {
      std::string_view v(value);
      return v.substr(0, 2) == "de";
    }
  }
  return false;
}

}  // namespace

void InitLanguageFromEnvironment() { g_german = LanguageIsGerman(); }

std::string_view Tr(std::string_view english) {
  if (!g_german) return english;
  const auto& table = German();
  auto it = table.find(english);
  return it == table.end() ? english : it->second;
}

}  // namespace velin
