// The German catalogue, part two: the engines' and the commands' errors and the lines that
// were English until issue 17 (docs: "German, completely"). Keys are the English templates
// exactly as the code writes them (TrFormat keys, not formatted results); errno texts as glibc
// words them (ErrnoError translates strerror through here).
#include <string_view>
#include <unordered_map>

namespace velin::i18n_detail {

const std::unordered_map<std::string_view, std::string_view>& MoreGerman() {
  static const std::unordered_map<std::string_view, std::string_view> kTable = {
      // Lines added since the last catalogue pass (several databases, schema levels, files
      // replaced while read).
      {"{} was replaced by another file while the backup read it",
       "{} wurde durch eine andere Datei ersetzt, während das Backup sie las"},
      {"pack {}", "Pack {}"},
      {"database '{}': {} has no {} section", "Datenbank '{}': {} hat keinen Abschnitt {}"},
      {"{} ({}.password_env); cron and systemd pass none of your shell's variables: for "
       "scheduled runs put the password in a file only velin's user may read (chmod 600) and "
       "name it in {}.password_file instead",
       "{} ({}.password_env); cron und systemd geben keine Variablen Ihrer Shell weiter: für "
       "geplante Läufe das Passwort in eine Datei legen, die nur velins Benutzer lesen darf "
       "(chmod 600), und sie stattdessen in {}.password_file nennen"},
      {"the backup holds database '{}' of {} but {} is '{}'",
       "das Backup enthält die Datenbank '{}' von {}, aber {} ist '{}'"},
      {"backup {} holds database '{}', and {} has no {} section to say where it goes",
       "Backup {} enthält die Datenbank '{}', und {} hat keinen Abschnitt {}, der sagt, wohin "
       "sie gehört"},
      {"backup {} holds database '{}' of {} but {} is '{}'",
       "Backup {} enthält die Datenbank '{}' von {}, aber {} ist '{}'"},
      {"the backup's database '{}' is not restored under --target (only files are): restore it "
       "with --only {} --database {}",
       "die Datenbank '{}' des Backups wird unter --target nicht wiederhergestellt (nur "
       "Dateien): mit --only {} --database {} wiederherstellen"},
      {"the own files of database '{}' ({}) are restored as named, from the copy the backup "
       "read while the application wrote: it may be torn; the consistent copy is the backup's "
       "dump (--only {})",
       "die eigenen Dateien der Datenbank '{}' ({}) werden wie genannt wiederhergestellt, aus "
       "der Kopie, die das Backup las, während die Anwendung schrieb: sie kann zerrissen sein; "
       "die konsistente Kopie ist der Dump des Backups (--only {})"},
      {"the own files of database '{}' ({}) are restored from the copy the backup read while "
       "the application wrote, and the backup holds no usable dump of it: the copy may be torn "
       "(check it with sqlite3 FILE 'PRAGMA integrity_check')",
       "die eigenen Dateien der Datenbank '{}' ({}) werden aus der Kopie wiederhergestellt, die "
       "das Backup las, während die Anwendung schrieb, und das Backup enthält keinen "
       "brauchbaren Dump von ihr: die Kopie kann zerrissen sein (mit sqlite3 DATEI 'PRAGMA "
       "integrity_check' prüfen)"},
      {"the backup's copy of the own files of database '{}' ({}) is left out: the database is "
       "restored from its dump, one consistent copy",
       "die Kopie der eigenen Dateien der Datenbank '{}' ({}) im Backup wird ausgelassen: die "
       "Datenbank wird aus ihrem Dump wiederhergestellt, einer konsistenten Kopie"},
      {"the backup's copy of the own files of database '{}' ({}) is left out: read while the "
       "application wrote, it may be torn; the backup holds the database as '{}', one "
       "consistent copy: restore it with --only {}{}",
       "die Kopie der eigenen Dateien der Datenbank '{}' ({}) im Backup wird ausgelassen: "
       "gelesen, während die Anwendung schrieb, kann sie zerrissen sein; das Backup enthält die "
       "Datenbank als '{}', eine konsistente Kopie: mit --only {}{} wiederherstellen"},
      {"{} names where one database goes, and backup {} holds {} ({}): choose it with --only "
       "{}; nothing was changed",
       "{} nennt, wohin eine Datenbank gehört, und Backup {} enthält {} ({}): mit --only {} "
       "auswählen; nichts wurde geändert"},
      {"backup {} holds database '{}', and {} has no {} section to say where it goes: add it, "
       "or restore it with --only {} --database-url URL; nothing was changed",
       "Backup {} enthält die Datenbank '{}', und {} hat keinen Abschnitt {}, der sagt, wohin "
       "sie gehört: ihn hinzufügen oder mit --only {} --database-url URL wiederherstellen; "
       "nichts wurde geändert"},
      {"backup {} holds no dump of {} (taken before it was configured, or by a velin that "
       "backed up [database] alone): it stays as it is",
       "Backup {} enthält keinen Dump von {} (vor ihrer Konfiguration erstellt oder von einem "
       "velin, das nur [database] sicherte): sie bleibt, wie sie ist"},
      {" (restored: {}; not restored: {})",
       " (wiederhergestellt: {}; nicht wiederhergestellt: {})"},
      {"none", "keine"},
      {"'databases' must hold tables [databases.NAME]",
       "'databases' muss Tabellen [databases.NAME] enthalten"},
      {"[{}]: a database's name is 1 to 32 of a-z, 0-9, '_' and '-'",
       "[{}]: der Name einer Datenbank besteht aus 1 bis 32 Zeichen aus a-z, 0-9, '_' und '-'"},
      {"key 'include' in [backup] names \"{}\" but there is no [databases.{}] section{}",
       "Schlüssel 'include' in [backup] nennt \"{}\", aber es gibt keinen Abschnitt "
       "[databases.{}]{}"},
      {"[databases.{}] is configured but backup.include does not name \"db:{}\": backups hold "
       "no copy of it (add \"db:{}\" to backup.include, or remove [databases.{}])",
       "[databases.{}] ist konfiguriert, aber backup.include nennt \"db:{}\" nicht: Backups "
       "enthalten keine Kopie davon (\"db:{}\" zu backup.include hinzufügen oder "
       "[databases.{}] entfernen)"},
      {"[{}] needs key 'driver' (\"postgresql\", \"mysql\" or \"sqlite\")",
       "[{}] braucht den Schlüssel 'driver' (\"postgresql\", \"mysql\" oder \"sqlite\")"},
      {"[{}] with driver \"sqlite\" needs key 'path'",
       "[{}] mit Treiber \"sqlite\" braucht den Schlüssel 'path'"},
      {"[{}] with driver \"{}\" needs key 'name'",
       "[{}] mit Treiber \"{}\" braucht den Schlüssel 'name'"},
      {"cannot load {} ({}): install the {} package",
       "kann {} nicht laden ({}): das Paket {} installieren"},
      {"{} has no function {}", "{} hat keine Funktion {}"},
      {"cannot open: {}{}", "kann nicht öffnen: {}{}"},
      {"cannot seek to the end of {}", "kann nicht an das Ende von {} springen"},
      {"zstd: cannot make a decompression context",
       "zstd: kann keinen Dekompressionskontext anlegen"},
      {"blob {}: pack {}", "Blob {}: Pack {}"},
      {"pack {} is shorter than its index says", "Pack {} ist kürzer, als sein Index sagt"},
      {"{} was replaced by another file while velin read it; nothing was created: run the "
       "command again",
       "{} wurde durch eine andere Datei ersetzt, während velin sie las; nichts wurde erstellt: "
       "den Befehl erneut ausführen"},
      {"rollback.migrate_down ended with exit status 0, but rollback.migration_status now says "
       "{}, not {}",
       "rollback.migrate_down endete mit Exit-Status 0, aber rollback.migration_status sagt "
       "jetzt {}, nicht {}"},
      {"{}; the database stays at schema level {} ({} ran on {}): velin does not migrate up, "
       "run the migrations of {}",
       "{}; die Datenbank bleibt auf dem Schemastand {} ({} lief auf {}): velin migriert nicht "
       "nach oben, die Migrationen von {} ausführen"},
      {"Schema level of {} recorded: {}", "Schemastand von {} vermerkt: {}"},
      {"Schema level of {} recorded: {} (was {})", "Schemastand von {} vermerkt: {} (war {})"},
      {"the schema level of the live version was not recorded: {}",
       "der Schemastand der laufenden Version wurde nicht vermerkt: {}"},
      {"rollback.migration_status printed nothing: {} has no schema level, and a switch back to "
       "it will not run migrate_down",
       "rollback.migration_status gab nichts aus: {} hat keinen Schemastand, und ein Wechsel "
       "zurück zu ihr führt migrate_down nicht aus"},
      {"{} is closed", "{} ist geschlossen"},
      {"version {} was created, but tidying up after it failed: {}; the next velin rollback "
       "command finishes it",
       "Version {} wurde erstellt, aber das Aufräumen danach schlug fehl: {}; der nächste "
       "velin-rollback-Befehl schließt es ab"},
      {" (no free inodes: its file system has room for no more files, whatever space it has "
       "left; see df -i)",
       " (keine freien Inodes: sein Dateisystem hat Platz für keine weiteren Dateien, wie viel "
       "Speicher es auch noch hat; siehe df -i)"},
      {"rollback.artifacts: {} is a symbolic link to {}, which holds the whole application "
       "(app.root {}); list the application's own paths instead (e.g. \"bin\", \"public\")",
       "rollback.artifacts: {} ist ein symbolischer Link auf {}, das die ganze Anwendung enthält "
       "(app.root {}); stattdessen die eigenen Pfade der Anwendung aufführen (z. B. \"bin\", "
       "\"public\")"},
      {"version {} was created, but pruning older versions (keep_versions = {}) failed: {}; the "
       "next create-version prunes them",
       "Version {} wurde erstellt, aber das Aufräumen älterer Versionen (keep_versions = {}) "
       "schlug fehl: {}; das nächste create-version räumt sie auf"},
      {"--all means every host and application; leave out --host and --app",
       "--all bedeutet alle Hosts und Anwendungen; --host und --app weglassen"},
      {"no backup of {} in {} ({} of other hosts or apps: see `velin backup list --all`, choose "
       "with --host/--app)",
       "kein Backup von {} in {} ({} anderer Hosts oder Apps: siehe `velin backup list --all`, "
       "Auswahl mit --host/--app)"},
      {"all hosts and apps", "allen Hosts und Apps"},
      {"host '{}', app '{}'", "Host '{}', App '{}'"},
      {"host '{}', every app", "Host '{}', alle Apps"},
      {"app '{}', every host", "App '{}', alle Hosts"},
      {"finished the interrupted switch to {}, but restoring the database from backup {} "
       "failed: {}; retry with: {}",
       "den unterbrochenen Wechsel zu {} abgeschlossen, aber die Wiederherstellung der Datenbank "
       "aus Backup {} schlug fehl: {}; erneut versuchen mit: {}"},
      {"cannot arm the watchdog: velin binary unknown",
       "kann den Watchdog nicht starten: velin-Programm unbekannt"},
      {"nothing to return to: {} does not point at a registered version (create-version + "
       "to-version, or 'velin rollback adopt')",
       "nichts, wohin zurückgekehrt werden kann: {} zeigt auf keine registrierte Version "
       "(create-version + to-version, oder 'velin rollback adopt')"},
      {"another deploy is running: {}; wait for its commit or rollback ('velin rollback status'), "
       "or, if it is yours, give it more time with 'velin rollback extend'",
       "ein anderes Deployment läuft: {}; auf sein commit oder rollback warten ('velin rollback "
       "status') oder, wenn es Ihres ist, ihm mit 'velin rollback extend' mehr Zeit geben"},
      {"{} received: {}", "{} empfangen: {}"},
      {"stopping the backup (a second signal ends velin at once)",
       "das Backup wird abgebrochen (ein zweites Signal beendet velin sofort)"},
      {"backup interrupted by {}; nothing was committed",
       "Backup durch {} unterbrochen; nichts wurde übernommen"},
      {"forget and prune skipped: interrupted by {}",
       "forget und prune übersprungen: durch {} unterbrochen"},
      {"interrupted by {}", "durch {} unterbrochen"},
      {"stopping the verify (a second signal ends velin at once)",
       "die Prüfung wird abgebrochen (ein zweites Signal beendet velin sofort)"},
      {"verify interrupted by {}; nothing was recorded",
       "Prüfung durch {} unterbrochen; nichts wurde vermerkt"},
      {"stopping the prune (a second signal ends velin at once)",
       "prune wird abgebrochen (ein zweites Signal beendet velin sofort)"},
      {"prune interrupted by {}; the repository is whole: run it again to finish",
       "prune durch {} unterbrochen; das Repository ist vollständig: zum Abschließen erneut "
       "ausführen"},
      {"stopping the forget (a second signal ends velin at once)",
       "forget wird abgebrochen (ein zweites Signal beendet velin sofort)"},
      {"forget interrupted by {}; some backups it would forget may remain: run it again",
       "forget durch {} unterbrochen; einige zu vergessende Backups können noch da sein: erneut "
       "ausführen"},
      {"stopping the copy (a second signal ends velin at once)",
       "das Kopieren wird abgebrochen (ein zweites Signal beendet velin sofort)"},
      {"copy interrupted by {}; run it again to copy what is missing in {}",
       "Kopieren durch {} unterbrochen; erneut ausführen, um zu kopieren, was in {} fehlt"},
      {"stopping the restore (a second signal ends velin at once)",
       "die Wiederherstellung wird abgebrochen (ein zweites Signal beendet velin sofort)"},
      {"restore interrupted by {}: it is incomplete; run it again to finish it",
       "Wiederherstellung durch {} unterbrochen: sie ist unvollständig; zum Abschließen erneut "
       "ausführen"},
      {"the restore of database '{}' finishes first, then velin stops (a MariaDB restore cannot "
       "be rolled back: stopped now, the database would be left half restored, as kill -9 "
       "leaves it); a restore that waits for a lock is stopped",
       "erst wird die Wiederherstellung der Datenbank '{}' abgeschlossen, dann beendet sich velin "
       "(eine MariaDB-Wiederherstellung kann nicht zurückgerollt werden: jetzt abgebrochen, "
       "bliebe die Datenbank halb wiederhergestellt, wie nach kill -9); eine Wiederherstellung, "
       "die auf eine Sperre wartet, wird abgebrochen"},
      {"restore interrupted by {} while it waited for a lock",
       "Wiederherstellung durch {} unterbrochen, während sie auf eine Sperre wartete"},
      {"session {} did not end after KILL", "Sitzung {} endete nach KILL nicht"},
      {"{} in database '{}'; the client's session {} could not be ended ({}): end it (KILL {}) "
       "before the lock comes free, or it runs the statement it waits with; then restore again",
       "{} in der Datenbank '{}'; die Sitzung {} des Clients konnte nicht beendet werden ({}): "
       "sie beenden (KILL {}), bevor die Sperre frei wird, sonst führt sie die Anweisung aus, "
       "mit der sie wartet; dann erneut wiederherstellen"},
      {"{} in database '{}'; nothing was changed (it waited with the restore's first "
       "statement): restore again once the lock is free",
       "{} in der Datenbank '{}'; nichts wurde geändert (sie wartete mit der ersten Anweisung der "
       "Wiederherstellung): erneut wiederherstellen, sobald die Sperre frei ist"},
      {"; a signal stops the restore while it waits, before it changed anything",
       "; ein Signal stoppt die Wiederherstellung, während sie wartet, bevor sie etwas geändert "
       "hat"},
      {"{} in database '{}'; the database is left partly restored (the tables before the one it "
       "waited for replaced, the rest as they were): a MariaDB restore cannot be rolled back, "
       "restore again to repair it",
       "{} in der Datenbank '{}'; die Datenbank bleibt teilweise wiederhergestellt (die Tabellen "
       "vor der, auf die sie wartete, ersetzt, der Rest wie zuvor): eine "
       "MariaDB-Wiederherstellung kann nicht zurückgerollt werden, zum Reparieren erneut "
       "wiederherstellen"},
      {"the switch to {} finishes first, then velin stops (kill -9 stops it at once; 'velin "
       "rollback recover' then finishes the switch)",
       "erst wird der Wechsel zu {} abgeschlossen, dann beendet sich velin (kill -9 beendet es "
       "sofort; 'velin rollback recover' schließt den Wechsel dann ab)"},
      {"a switch was interrupted; run 'velin rollback recover' first",
       "ein Wechsel wurde unterbrochen; zuerst 'velin rollback recover' ausführen"},
      {"transaction {}: rollback failed", "Transaktion {}: Rücksetzung fehlgeschlagen"},
      {"no open transaction (the last one, {}, ended at {}: {})",
       "keine offene Transaktion (die letzte, {}, endete um {}: {})"},
      {"no open transaction", "keine offene Transaktion"},
      {"too late to commit: transaction {} was {}", "zu spät für commit: Transaktion {} wurde {}"},
      {"too late to extend: transaction {} was {}",
       "zu spät zum Verlängern: Transaktion {} wurde {}"},
      {"{}: not a valid velin rollback state file (malformed JSON)",
       "{}: keine gültige velin-Rollback-Zustandsdatei (fehlerhaftes JSON)"},
      {"{}: missing 'format' version", "{}: 'format'-Version fehlt"},
      {"{}: written by a newer velin (format {}, this velin reads up to {}); upgrade velin",
       "{}: von einem neueren velin geschrieben (Format {}, dieses velin liest bis {}); velin "
       "aktualisieren"},
      {"{}: 'versions' is missing or not a list", "{}: 'versions' fehlt oder ist keine Liste"},
      {"{}: a version entry has no name", "{}: ein Versionseintrag hat keinen Namen"},
      {"{}: version '{}'", "{}: Version '{}'"},
      {"{}: field '{}' is not text", "{}: Feld '{}' ist kein Text"},
      {"{}: field '{}' is not a list", "{}: Feld '{}' ist keine Liste"},
      {"{}: field '{}' is not a whole number", "{}: Feld '{}' ist keine ganze Zahl"},
      {"{}: field '{}' is not true or false", "{}: Feld '{}' ist weder true noch false"},
      {"{}; an expired deploy transaction was not looked for ('velin rollback status' says more)",
       "{}; nach einer abgelaufenen Deploy-Transaktion wurde nicht gesucht ('velin rollback "
       "status' sagt mehr)"},
      {"{}:{}: malformed entry", "{}:{}: fehlerhafter Eintrag"},
      {"{}: transaction has no id or state", "{}: Transaktion ohne ID oder Zustand"},
      {"{}: transaction has an unknown state '{}'", "{}: Transaktion mit unbekanntem Zustand '{}'"},
      {"{}: transaction has an unknown rollback cause '{}'",
       "{}: Transaktion mit unbekanntem Grund des Zurücksetzens '{}'"},
      {"a version needs a name", "eine Version braucht einen Namen"},
      {"version name '{}' is too long", "Versionsname '{}' ist zu lang"},
      {"'{}' cannot name a version: 'velin rollback to-version previous' means the version that "
       "was live before the current one",
       "'{}' kann keine Version benennen: 'velin rollback to-version previous' bedeutet die "
       "Version, die vor der aktuellen aktiv war"},
      {"version name '{}' must not start with '.' or '-'",
       "Versionsname '{}' darf nicht mit '.' oder '-' beginnen"},
      {"version name '{}' may hold only letters, digits, '.', '_', '-' and '+'",
       "Versionsname '{}' darf nur Buchstaben, Ziffern, '.', '_', '-' und '+' enthalten"},
      {"{} is not a symlink (plain files): run 'velin rollback adopt' first",
       "{} ist kein Symlink (normale Dateien): zuerst 'velin rollback adopt' ausführen"},
      {"{} is a symlink to {}, which is not one of velin's releases: run 'velin rollback adopt' "
       "first (it stores what the link points at as a snapshot to switch back to)",
       "{} ist ein Symlink auf {}, das keine Release von velin ist: zuerst 'velin rollback "
       "adopt' ausführen (es speichert, worauf der Link zeigt, als Snapshot, zu dem "
       "zurückgewechselt werden kann)"},
      {"no version '{}' (see velin rollback list)",
       "keine Version '{}' (siehe velin rollback list)"},
      {"the interrupted switch goes to '{}', which is no longer registered; {} was left alone",
       "der unterbrochene Wechsel geht zu '{}', das nicht mehr registriert ist; {} blieb "
       "unangetastet"},
      {"{}: not a path velin removes", "{}: kein Pfad, den velin entfernt"},
      {"{}: '{}' in a path below {}", "{}: '{}' in einem Pfad unterhalb von {}"},
      {"{}: no file named below {}", "{}: keine Datei unterhalb von {} benannt"},
      {"{} is a symbolic link to {} that user {} made, which leads out of {}: velin does not "
       "follow it (it would read or write there with its own rights, not that user's); put what "
       "it leads to in its place, or have root make the link",
       "{} ist ein symbolischer Link auf {}, den Benutzer {} angelegt hat und der aus {} "
       "herausführt: velin folgt ihm nicht (es würde dort mit seinen eigenen Rechten lesen oder "
       "schreiben, nicht mit denen dieses Benutzers); das, wohin er führt, an seine Stelle legen "
       "oder den Link von root anlegen lassen"},
      {"{} was replaced while velin opened it: run the command again",
       "{} wurde ersetzt, während velin es öffnete: den Befehl erneut ausführen"},
      {"{}: stored without its directory", "{}: ohne sein Verzeichnis gespeichert"},
      {"{}: not a regular file, directory or symlink",
       "{}: weder normale Datei noch Verzeichnis noch Symlink"},
      {"the output of {} did not end with its line '{}'; nothing was changed",
       "die Ausgabe von {} endete nicht mit ihrer Zeile '{}'; nichts wurde geändert"},
      {"{}: a symlink on its path changed while velin read it (it led to {} when read); run the "
       "backup again",
       "{}: ein symbolischer Link auf seinem Pfad änderte sich, während velin ihn las (er führte "
       "beim Lesen zu {}); das Backup erneut ausführen"},
      {"refusing to restore through {}: it leads to {} now, not to {} as when backed up (a "
       "symlink on the way changed); fix it, or restore with --target",
       "Wiederherstellung durch {} verweigert: er führt jetzt zu {}, nicht zu {} wie beim Backup "
       "(ein symbolischer Link auf dem Weg hat sich geändert); das beheben oder mit --target "
       "wiederherstellen"},
      {"refusing to restore through {}: it leads to {}, not to {} as its text says (a symlink on "
       "the way, which a backup of before 2026-12-06 cannot tell from one swapped since); fix "
       "it, or restore with --target",
       "Wiederherstellung durch {} verweigert: er führt zu {}, nicht zu {}, wie sein Text sagt "
       "(ein symbolischer Link auf dem Weg, den ein Backup von vor dem 2026-12-06 nicht von "
       "einem seither ausgetauschten unterscheiden kann); das beheben oder mit --target "
       "wiederherstellen"},
      {"cannot tell where directory {} is", "kann nicht feststellen, wo das Verzeichnis {} liegt"},
      {"{}: {}; a restore or switch refuses it",
       "{}: {}; eine Wiederherstellung oder ein Wechsel verweigert das"},
      {"rollback.state_dir: {}", "rollback.state_dir: {}"},
      {"function {}", "Funktion {}"},
      {"procedure {}", "Prozedur {}"},
      {"switch to {}: {}; nothing was changed (still {})",
       "Wechsel zu {}: {}; nichts wurde geändert (weiterhin {})"},
      {"switch to {}: {}; nothing was changed", "Wechsel zu {}: {}; nichts wurde geändert"},
      {"a switch from '{}' to '{}' was interrupted; run 'velin rollback recover' first",
       "ein Wechsel von '{}' zu '{}' wurde unterbrochen; zuerst 'velin rollback recover' "
       "ausführen"},
      {"{} points at release '{}', which does not exist ({} is missing: velin's state was lost "
       "or not restored): remove the link ('rm {}') and run adopt again, or restore {} first; "
       "nothing was changed",
       "{} zeigt auf Release '{}', das es nicht gibt ({} fehlt: velins Zustand ging verloren oder "
       "wurde nicht wiederhergestellt): den Link entfernen ('rm {}') und adopt erneut ausführen, "
       "oder zuerst {} wiederherstellen; nichts wurde geändert"},
      {"{} files and directories are restored with an owner this machine has no user or group "
       "for ({}; e.g. {}): a backup keeps numeric owners; give them to the application's user "
       "(chown -R USER:GROUP …)",
       "{} Dateien und Verzeichnisse sind mit einem Eigentümer wiederhergestellt, für den diese "
       "Maschine keinen Benutzer oder keine Gruppe hat ({}; z. B. {}): ein Backup bewahrt "
       "numerische Eigentümer; sie dem Benutzer der Anwendung geben (chown -R BENUTZER:GRUPPE …)"},
      {": create it on this server first (as its superuser: CREATE ROLE \"{}\" LOGIN "
       "CREATEDB PASSWORD '…';), or connect as a role it has (e.g. postgres)",
       ": zuerst auf diesem Server anlegen (als dessen Superuser: CREATE ROLE \"{}\" LOGIN "
       "CREATEDB PASSWORD '…';) oder als eine Rolle verbinden, die er hat (z. B. postgres)"},
      {"`latest` is ambiguous: {} holds backups of several hosts and applications ({}); choose "
       "one with --host and --app (`velin backup list` shows them), or --all for the newest of "
       "them all",
       "`latest` ist mehrdeutig: {} enthält Backups mehrerer Hosts und Anwendungen ({}); eine "
       "mit --host und --app wählen (`velin backup list` zeigt sie) oder --all für das neueste "
       "von allen"},
      {"{} already points at release '{}': velin manages this application",
       "{} zeigt bereits auf Release '{}': velin verwaltet diese Anwendung"},
      {"rollback.{} command did not finish within {}: {}",
       "Befehl rollback.{} wurde nicht innerhalb von {} fertig: {}"},
      {"rollback.{} command failed ({}){}", "Befehl rollback.{} fehlgeschlagen ({}){}"},
      {"health check did not pass within {} ({} attempts; last: {})",
       "Health-Check nicht innerhalb von {} bestanden ({} Versuche; zuletzt: {})"},
      {"health check did not pass within {} (1 attempt; last: {})",
       "Health-Check nicht innerhalb von {} bestanden (1 Versuch; zuletzt: {})"},
      {"rollback.migration_status command failed ({}){}",
       "Befehl rollback.migration_status fehlgeschlagen ({}){}"},
      {"lock file {} is a symlink; velin refuses to follow it",
       "Sperrdatei {} ist ein Symlink; velin folgt ihm nicht"},
      {"cannot open lock file {}", "kann Sperrdatei {} nicht öffnen"},
      {"cannot lock {}", "kann {} nicht sperren"},
      {"another velin holds the rollback lock {}; try again later",
       "ein anderes velin hält die Rollback-Sperre {}; später erneut versuchen"},
      {"{}: not a regular file, directory or symlink; cannot keep it in a release",
       "{}: weder normale Datei noch Verzeichnis noch Symlink; kann nicht in ein Release "
       "aufgenommen werden"},
      {"{}: entries are not a list", "{}: Einträge sind keine Liste"},
      {"{}: an entry has no path", "{}: ein Eintrag hat keinen Pfad"},
      {"rollback path '{}' must be relative to app.root and inside it",
       "Rollback-Pfad '{}' muss relativ zu app.root sein und darin liegen"},
      {"artifact '{}' not found in {}", "Artefakt '{}' nicht gefunden in {}"},
      {"{}: malformed manifest", "{}: fehlerhaftes Manifest"},
      {"{}: written by a newer velin; upgrade velin",
       "{}: von einem neueren velin geschrieben; velin aktualisieren"},
      {"{}: malformed manifest: {}", "{}: fehlerhaftes Manifest: {}"},
      {"rollback.artifacts is empty: nothing to put in a version",
       "rollback.artifacts ist leer: nichts, was in eine Version gehört"},
      {"rollback.artifacts: {} does not exist", "rollback.artifacts: {} existiert nicht"},
      {"version '{}' exists already (use --replace to overwrite it)",
       "Version '{}' existiert bereits (mit --replace überschreiben)"},
      {"version '{}' is live or the base of the open transaction; it cannot be replaced",
       "Version '{}' ist aktiv oder die Basis der offenen Transaktion; sie kann nicht ersetzt "
       "werden"},
      {"'previous' needs a live version, but {} does not point at one",
       "'previous' braucht eine aktive Version, aber {} zeigt auf keine"},
      {"no version was live before {}: the history has no switch to it from another version",
       "vor {} war keine Version aktiv: der Verlauf enthält keinen Wechsel von einer anderen "
       "Version dorthin"},
      {"the version live before {}, {}, is no longer kept (pruned or replaced; see velin rollback "
       "history)",
       "die vor {} aktive Version, {}, wird nicht mehr aufbewahrt (entfernt oder ersetzt; siehe "
       "velin rollback history)"},
      {"environment {}: {}", "Umgebung {}: {}"},
      {"environment {}", "Umgebung {}"},
      {"{}: no such config file", "{}: keine solche Konfigurationsdatei"},
      {"{}: is a directory, not a config file",
       "{}: ist ein Verzeichnis, keine Konfigurationsdatei"},
      {"{}: cannot read: {}", "{}: nicht lesbar: {}"},
      {"{}: environment variable {} is not set", "{}: Umgebungsvariable {} ist nicht gesetzt"},
      {"[y/N]", "[j/N]"},  // a confirmation's hint (cli/context.cpp)
      // ReadSecret's `what`: the line names the secret in the user's language.
      {"repository passphrase", "Repository-Passphrase"},
      {"database password", "Datenbankpasswort"},
      {"{} (database.password_env); cron and systemd pass none of your shell's variables: for "
       "scheduled runs put the password in a file only velin's user may read (chmod 600) and "
       "name it in database.password_file instead",
       "{} (database.password_env); cron und systemd geben keine Variablen der Shell weiter: für "
       "geplante Läufe das Passwort in eine Datei legen, die nur velins Benutzer lesen darf "
       "(chmod 600), und sie stattdessen in database.password_file nennen"},
      {"{} (backup.password_env); cron and systemd pass none of your shell's variables: for "
       "scheduled runs put the passphrase in a file only velin's user may read (chmod 600) and "
       "name it in backup.password_file instead",
       "{} (backup.password_env); cron und systemd geben keine Variablen der Shell weiter: für "
       "geplante Läufe die Passphrase in eine Datei legen, die nur velins Benutzer lesen darf "
       "(chmod 600), und sie stattdessen in backup.password_file nennen"},
      {"new passphrase", "neue Passphrase"},
      {"scrypt N={} is not a power of two between 2^10 and 2^22",
       "scrypt N={} ist keine Zweierpotenz zwischen 2^10 und 2^22"},
      {"scrypt r={} is outside 1..32", "scrypt r={} liegt außerhalb von 1..32"},
      {"scrypt p={} is outside 1..16", "scrypt p={} liegt außerhalb von 1..16"},
      {"scrypt N={} r={} needs more than 1 GiB of memory",
       "scrypt N={} r={} braucht mehr als 1 GiB Speicher"},
      {"scrypt needs {} MiB of memory: {}", "scrypt braucht {} MiB Speicher: {}"},
      {"scrypt N={} r={} p={} is more than 16 times the work of velin's default parameters",
       "scrypt N={} r={} p={} ist mehr als das 16-Fache der Arbeit von velins "
       "Standardparametern"},
      {"the new passphrase already opens key {} of repository {} (added before?): give a "
       "passphrase the repository does not have yet",
       "die neue Passphrase öffnet bereits Schlüssel {} von Repository {} (schon hinzugefügt?): "
       "eine Passphrase angeben, die das Repository noch nicht hat"},
      {"the new passphrase is the one in use for repository {}",
       "die neue Passphrase ist die für Repository {} bereits verwendete"},
      {"key {} of repository {} no longer opens with the passphrase in use (another velin "
       "changed it meanwhile)",
       "Schlüssel {} von Repository {} öffnet nicht mehr mit der verwendeten Passphrase (ein "
       "anderes velin hat ihn inzwischen geändert)"},
      {"the new passphrase already opens key {} in repository {}, which belongs to another "
       "repository: give another passphrase, or remove that key first",
       "die neue Passphrase öffnet bereits Schlüssel {} in Repository {}, der zu einem anderen "
       "Repository gehört: eine andere Passphrase angeben oder diesen Schlüssel zuerst entfernen"},
      {"Passphrase changed: key {} replaces keys {} (each opened with the old passphrase)",
       "Passphrase geändert: Schlüssel {} ersetzt die Schlüssel {} (jeder öffnete mit der alten "
       "Passphrase)"},
      {"key {} opens with this passphrase but belongs to another repository (it does not verify "
       "the config of {}): it was not used",
       "Schlüssel {} öffnet mit dieser Passphrase, gehört aber zu einem anderen Repository (er "
       "bestätigt die Konfiguration von {} nicht): er wurde nicht verwendet"},
      {"key {} opens with this passphrase but belongs to another repository (the config of {} "
       "has no checksum, and its first snapshot or index object opens with another key, not "
       "this one): it was not used",
       "Schlüssel {} öffnet mit dieser Passphrase, gehört aber zu einem anderen Repository (die "
       "Konfiguration von {} hat keine Prüfsumme, und der erste Snapshot oder das erste "
       "Index-Objekt dort öffnet mit einem anderen Schlüssel, nicht mit diesem): er wurde nicht "
       "verwendet"},
      {"repository {}: keys {} open with this passphrase but hold different master keys, and "
       "its config has no checksum (an older velin wrote it) and no snapshot or index object "
       "tells which is the repository's: remove the key copied in from another repository "
       "(velin backup key remove ID), then run 'velin backup upgrade'",
       "Repository {}: die Schlüssel {} öffnen mit dieser Passphrase, enthalten aber "
       "verschiedene Hauptschlüssel, und seine Konfiguration hat keine Prüfsumme (ein älteres "
       "velin hat sie geschrieben) und kein Snapshot- oder Index-Objekt zeigt, welcher zum "
       "Repository gehört: den aus einem anderen Repository kopierten Schlüssel entfernen (velin "
       "backup key remove ID), dann 'velin backup upgrade' ausführen"},
      {"repository {} is not encrypted but backup.encryption is {}: refusing (an encrypted "
       "repository may have been replaced by an unencrypted one; if it was created unencrypted "
       "on purpose, set backup.encryption = \"none\")",
       "Repository {} ist nicht verschlüsselt, aber backup.encryption ist {}: abgelehnt (ein "
       "verschlüsseltes Repository wurde vielleicht durch ein unverschlüsseltes ersetzt; wurde "
       "es absichtlich unverschlüsselt angelegt, backup.encryption = \"none\" setzen)"},
      {"writing {}", "beim Schreiben von {}"},
      {"reading {} in {}", "beim Lesen von {} in {}"},
      {"writing {} in {}", "beim Schreiben von {} in {}"},
      {"deleting {} in {}", "beim Löschen von {} in {}"},
      {"updating the key objects of {} to those of {}",
       "beim Angleichen der Schlüsselobjekte von {} an die von {}"},
      {"updated the key objects of {} to those of {}: added {}, removed {} (a copy opens with its "
       "source's passphrases, no others)",
       "Schlüsselobjekte von {} an die von {} angeglichen: hinzugefügt {}, entfernt {} (eine "
       "Kopie öffnet sich mit den Passphrasen ihrer Quelle, mit keinen anderen)"},
      {"repository {} has no key objects (keys/): it is not encrypted, or its keys are gone",
       "Repository {} hat keine Schlüsselobjekte (keys/): es ist nicht verschlüsselt, oder seine "
       "Schlüssel fehlen"},
      {"repository {} already has key objects", "Repository {} hat bereits Schlüsselobjekte"},
      {"no key '{}'{}", "kein Schlüssel '{}'{}"},
      {"key prefix '{}' is ambiguous{}", "Schlüsselpräfix '{}' ist mehrdeutig{}"},
      {"refusing to remove key {}, the last key{}: without it nothing can be restored",
       "entferne Schlüssel {} nicht, den letzten Schlüssel{}: ohne ihn lässt sich nichts "
       "wiederherstellen"},
      {"refusing to remove key {}: it is the only key your passphrase opens; add or use another "
       "key first",
       "entferne Schlüssel {} nicht: es ist der einzige Schlüssel, den Ihre Passphrase öffnet; "
       "zuerst einen anderen Schlüssel hinzufügen oder verwenden"},
      {"refusing to remove key {}{}: no other key your passphrase opens is left (another velin "
       "removed it meanwhile)",
       "entferne Schlüssel {}{} nicht: kein anderer Schlüssel, den Ihre Passphrase öffnet, ist "
       "übrig (ein anderes velin hat ihn inzwischen entfernt)"},
      {"repository {} holds {} key object(s) of an interrupted init and no config, and this "
       "passphrase opens none of them: run `velin backup init` with the passphrase it was "
       "started with to finish it, or move the directory aside for a new, empty repository",
       "Repository {} enthält {} Schlüsselobjekt(e) eines unterbrochenen init und keine Config, "
       "und diese Passphrase öffnet keines davon: `velin backup init` mit der Passphrase, mit der "
       "es begonnen wurde, ausführen, um es abzuschließen, oder das Verzeichnis beiseitelegen für "
       "ein neues, leeres Repository"},
      {"repository {} has no config object but holds {} keys/ object(s) (e.g. {}) and nothing "
       "else: an encrypted `velin backup init` stopped before it wrote the config. Run `velin "
       "backup init` with encryption and the passphrase it was started with to finish it (a new, "
       "empty repository under those keys), or move the directory aside",
       "Repository {} hat kein Config-Objekt, enthält aber {} keys/-Objekt(e) (z. B. {}) und sonst "
       "nichts: ein verschlüsseltes `velin backup init` hielt an, bevor es die Config schrieb. "
       "`velin backup init` mit Verschlüsselung und der Passphrase, mit der es begonnen wurde, "
       "ausführen, um es abzuschließen (ein neues, leeres Repository unter diesen Schlüsseln), "
       "oder das Verzeichnis beiseitelegen"},
      {"backup copy: {} is a repository with other keys than {}; an encrypted repository can be "
       "copied only into a new destination (velin creates it with the same keys) or an earlier "
       "copy of it",
       "backup copy: {} ist ein Repository mit anderen Schlüsseln als {}; ein verschlüsseltes "
       "Repository lässt sich nur in ein neues Ziel (velin legt es mit denselben Schlüsseln an) "
       "oder in eine frühere Kopie davon kopieren"},
      {"backup copy: {} is encrypted and {} is not; the backups of an unencrypted repository can "
       "be copied only into an unencrypted one (a new destination is created unencrypted, like "
       "its source)",
       "backup copy: {} ist verschlüsselt und {} nicht; die Backups eines unverschlüsselten "
       "Repositorys lassen sich nur in ein unverschlüsseltes kopieren (ein neues Ziel wird wie "
       "seine Quelle unverschlüsselt angelegt)"},
      {"the repository passphrase is empty", "die Passphrase des Repositorys ist leer"},
      {"not a JSON object", "kein JSON-Objekt"},
      {"it is not valid JSON (truncated or overwritten?)",
       "es ist kein gültiges JSON (abgeschnitten oder überschrieben?)"},
      {"a field is missing", "ein Feld fehlt"},
      {"a field has the wrong type", "ein Feld hat den falschen Typ"},
      {"unsupported key object version {}", "nicht unterstützte Version {} des Schlüsselobjekts"},
      {"unsupported kdf (expected scrypt)", "nicht unterstützte KDF (erwartet: scrypt)"},
      {"salt is not {} bytes", "Salt ist nicht {} Bytes lang"},
      {"its id '{}' does not match its name", "seine ID '{}' passt nicht zu seinem Namen"},
      {"id '{}' is not 32 hex digits", "ID '{}' besteht nicht aus 32 Hex-Ziffern"},
      {"key object {} is damaged: {}", "Schlüsselobjekt {} ist beschädigt: {}"},
      {"invalid base64: length is not a multiple of 4",
       "ungültiges Base64: Länge ist kein Vielfaches von 4"},
      {"invalid base64 character", "ungültiges Base64-Zeichen"},
      {"invalid base64 padding", "ungültiges Base64-Padding"},
      {"non-canonical base64", "nicht kanonisches Base64"},
      {"unknown encryption '{}' (expected aes-256-gcm, chacha20-poly1305 or none)",
       "unbekannte Verschlüsselung '{}' (erwartet: aes-256-gcm, chacha20-poly1305 oder none)"},
      {"a sealer needs a cipher, not 'none'",
       "zum Verschlüsseln ist ein Verfahren nötig, nicht 'none'"},
      {"encrypted object too short ({} bytes, at least {} expected)",
       "verschlüsseltes Objekt zu kurz ({} Bytes, mindestens {} erwartet)"},
      {"unknown encryption envelope version {}", "unbekannte Version {} der Verschlüsselungshülle"},
      {"object sealed with {}, not with the repository's {}",
       "Objekt mit {} verschlüsselt, nicht mit {} des Repositorys"},
      {"authentication failed: the encrypted object was altered, truncated or swapped, or belongs "
       "to another repository",
       "Authentifizierung fehlgeschlagen: das verschlüsselte Objekt wurde verändert, gekürzt oder "
       "vertauscht, oder es gehört zu einem anderen Repository"},
      {"master key has an unknown format (version {}, {} bytes)",
       "Hauptschlüssel hat ein unbekanntes Format (Version {}, {} Bytes)"},
      {"cannot open log file {}: {}", "kann Logdatei {} nicht öffnen: {}"},
      {"cannot write log file {}: {}", "kann nicht in Logdatei {} schreiben: {}"},
      // Out of threads or memory (core/threads.hpp).
      {"cannot start a worker thread", "kann keinen Arbeits-Thread starten"},
      {"out of memory: an allocation failed (the limit of `ulimit -v`, or the system's memory, is "
       "reached)",
       "kein Speicher mehr: eine Speicheranforderung schlug fehl (die Grenze von `ulimit -v` oder "
       "der Speicher des Systems ist erreicht)"},
      {"a system call failed", "ein Systemaufruf schlug fehl"},
      {"an unknown exception was thrown", "eine unbekannte Ausnahme wurde ausgelöst"},
      {"{} was replaced while the restore was in it: not restoring into what is there now",
       "{} wurde ersetzt, während die Wiederherstellung darin war: es wird nicht in das "
       "wiederhergestellt, was jetzt dort ist"},
      {"[{} bytes of output left out]", "[{} Bytes der Ausgabe ausgelassen]"},
      {"{}; logging to stderr only", "{}; protokolliert wird nur auf stderr"},
      {"key 'file' in [log]: {}", "Schlüssel 'file' in [log]: {}"},
      {"pack does not end with the pack magic (truncated or overwritten)",
       "Pack endet nicht mit der Pack-Kennung (gekürzt oder überschrieben)"},
      {"pack header length {} is invalid", "Länge {} des Pack-Kopfes ist ungültig"},
      {"pack header lists blob {} beyond the pack's data",
       "Pack-Kopf nennt Blob {} jenseits der Daten des Packs"},
      {"not an index object (bad magic)", "kein Indexobjekt (falsche Kennung)"},
      {"index object is truncated", "Indexobjekt ist gekürzt"},
      {"index object has trailing bytes", "Indexobjekt hat überzählige Bytes am Ende"},
      {"not a tree (bad magic)", "kein Baum (falsche Kennung)"},
      {"tree is truncated", "Baum ist gekürzt"},
      {"tree is truncated or malformed", "Baum ist gekürzt oder fehlerhaft"},
      {"tree holds an invalid name '{}' (empty, '.', '..', '/' or NUL)",
       "Baum enthält einen ungültigen Namen '{}' (leer, '.', '..', '/' oder NUL)"},
      {"tree names are unsorted or duplicated at '{}'",
       "Namen im Baum sind bei '{}' unsortiert oder doppelt"},
      {"tree has trailing bytes", "Baum hat überzählige Bytes am Ende"},
      {"repository {} has format version {}; this velin reads up to version {} (upgrade velin)",
       "Repository {} hat Formatversion {}; dieses velin liest bis Version {} (velin "
       "aktualisieren)"},
      {"repository config {}/config has an invalid encryption",
       "Repository-Konfiguration {}/config hat eine ungültige Verschlüsselung"},
      {"repository config {}/config is damaged ({})",
       "Repository-Konfiguration {}/config ist beschädigt ({})"},
      {"repository config {}/config is damaged",
       "Repository-Konfiguration {}/config ist beschädigt"},
      {"repository config {}/config changed after velin opened it (its id, encryption or chunker "
       "differ now: the repository was replaced): run the command again",
       "Repository-Konfiguration {}/config hat sich geändert, nachdem velin sie geöffnet hat (ID, "
       "Verschlüsselung oder Chunker sind jetzt andere: das Repository wurde ersetzt): den Befehl "
       "erneut ausführen"},
      {"repository config {}/config has invalid chunker sizes",
       "Repository-Konfiguration {}/config hat ungültige Chunker-Größen"},
      {"repository config {}/config has an invalid format version {}",
       "Repository-Konfiguration {}/config hat eine ungültige Formatversion {}"},
      {"repository config {}/config names an unknown chunker algorithm '{}'",
       "Repository-Konfiguration {}/config nennt einen unbekannten Chunker-Algorithmus '{}'"},
      {"the config of {} has no checksum (an older velin wrote it), so a change to it cannot be "
       "detected: `velin backup upgrade` adds one",
       "die Config von {} hat keine Prüfsumme (ein älteres velin hat sie geschrieben), eine "
       "Änderung daran ist also nicht erkennbar: `velin backup upgrade` fügt eine hinzu"},
      {"{} is at format version {}; its config now has a checksum",
       "{} hat Formatversion {}; seine Config hat jetzt eine Prüfsumme"},
      {"repository config {}/config has an invalid id",
       "Repository-Konfiguration {}/config hat eine ungültige ID"},
      {"repository config {}/config has been changed or damaged (its checksum does not match): "
       "put back `config` from a copy of this repository (the offsite copy, a file-system "
       "snapshot)",
       "Repository-Konfiguration {}/config wurde verändert oder beschädigt (ihre Prüfsumme stimmt "
       "nicht): `config` aus einer Kopie dieses Repositorys zurücklegen (der Offsite-Kopie, einem "
       "Dateisystem-Snapshot)"},
      {"repository {} has no config object but holds {} {} object(s) (e.g. {}): it is damaged, and "
       "velin will not write a new config over it. Put back `config` from a copy of this "
       "repository (the offsite copy, a file-system snapshot), or move the directory aside and run "
       "`velin backup init` for a new, empty repository",
       "Repository {} hat kein config-Objekt, enthält aber {} {}-Objekt(e) (z. B. {}): es ist "
       "beschädigt, und velin schreibt keine neue config darüber. `config` aus einer Kopie dieses "
       "Repositorys zurücklegen (der Offsite-Kopie, einem Dateisystem-Snapshot) oder das "
       "Verzeichnis beiseiteschieben und `velin backup init` für ein neues, leeres Repository "
       "ausführen"},
      {"a repository already exists at {}", "in {} existiert bereits ein Repository"},
      {"no repository at {} (run 'velin backup init' or 'velin backup create')",
       "kein Repository in {} ('velin backup init' oder 'velin backup create' ausführen)"},
      {"repository {}", "Repository {}"},
      {"blob {} is missing from the index", "Blob {} fehlt im Index"},
      {"blob {} is missing from the index ({})", "Blob {} fehlt im Index ({})"},
      {"run `velin backup verify`", "`velin backup verify` ausführen"},
      {"index object {} is damaged: run `velin backup verify --all`",
       "Indexobjekt {} ist beschädigt: `velin backup verify --all` ausführen"},
      {"{} index objects are damaged, {} among them: run `velin backup verify --all`",
       "{} Indexobjekte sind beschädigt, darunter {}: `velin backup verify --all` ausführen"},
      {"index object {} is damaged ({}): the blobs it lists count as not stored (run `velin "
       "backup verify --all`)",
       "Indexobjekt {} ist beschädigt ({}): die Blobs, die es nennt, gelten als nicht gespeichert "
       "(`velin backup verify --all` ausführen)"},
      {"blob {}: pack {} {}", "Blob {}: Pack {} {}"},
      {"blob {} in pack {} is damaged ({})", "Blob {} in Pack {} ist beschädigt ({})"},
      {"delta blob is shorter than its base id", "Delta-Blob ist kürzer als die ID seiner Basis"},
      {"delta base {} is itself a delta blob", "Delta-Basis {} ist selbst ein Delta-Blob"},
      {"its delta base: {}", "seine Delta-Basis: {}"},
      {"tree {}: {}", "Baum {}: {}"},
      {"tree {}", "Baum {}"},
      {"tree {} of backup {}", "Baum {} von Backup {}"},
      {"snapshot {}: {}", "Snapshot {}: {}"},
      {"snapshot {}: holds id {}", "Snapshot {}: enthält ID {}"},
      {"the repository at {} has no backups", "das Repository in {} enthält keine Backups"},
      {"no readable backup in {}", "kein lesbares Backup in {}"},
      {"no host key of {} matches {} (storage.sftp.known_hosts): the server offers none of the "
       "key types it holds for this server (a reinstalled server?), or no key exchange velin "
       "knows ({})",
       "kein Host-Schlüssel von {} passt zu {} (storage.sftp.known_hosts): der Server bietet "
       "keinen der Schlüsseltypen an, die dort für ihn stehen (ein neu installierter Server?), "
       "oder keinen Schlüsselaustausch, den velin kennt ({})"},
      {"the server's file system at {} is read-only ({})",
       "das Dateisystem des Servers unter {} ist schreibgeschützt ({})"},
      {"the server has no room for it ({} bytes free in {}, {} needed)",
       "auf dem Server ist dafür kein Platz ({} Bytes frei in {}, {} nötig)"},
      {"no readable backup of {} in {}, and backup {} cannot be read ({}): name a backup "
       "(`velin backup list --all` shows them)",
       "kein lesbares Backup von {} in {}, und Backup {} ist nicht lesbar ({}): nennen Sie ein "
       "Backup (`velin backup list --all` zeigt sie)"},
      {"backup {} in {} cannot be read ({}), and it may be newer than {}: `latest` cannot "
       "tell which backup is the newest; name the backup to use (`velin backup list` shows "
       "them), or `velin backup forget {}` once you know it is lost",
       "Backup {} in {} ist nicht lesbar ({}) und womöglich neuer als {}: `latest` kann nicht "
       "sagen, welches Backup das neueste ist; nennen Sie das gewünschte Backup (`velin backup "
       "list` zeigt sie) oder `velin backup forget {}`, sobald feststeht, dass es verloren ist"},
      {"no backup '{}' in {}", "kein Backup '{}' in {}"},
      {"backup '{}' is ambiguous ({} backups start with it: {}, {}, ...)",
       "Backup '{}' ist mehrdeutig ({} Backups beginnen damit: {}, {}, ...)"},
      {"lock {}", "Sperre {}"},
      {"repository {} is locked by {} ({}); it never expires by age (a clock is wrong): once "
       "nothing of velin runs on that host, remove it with `velin backup unlock`",
       "Repository {} ist gesperrt durch {} ({}); die Sperre läuft nie ab (eine Uhr geht falsch): "
       "sobald auf jenem Host nichts von velin mehr läuft, entfernen Sie sie mit `velin backup "
       "unlock`"},
      {"repository {} is locked by {} ({}); retry later or pass --lock-wait",
       "Repository {} ist gesperrt durch {} ({}); später erneut versuchen oder --lock-wait "
       "angeben"},
      {"repository {} is locked by {} ({}), the lock a backup holds while it writes its "
       "snapshot; one whose holder died expires 2 minutes after its last refresh: pass "
       "--lock-wait 3m to wait for that, or, once nothing of velin runs on that host, remove it "
       "with `velin backup unlock`",
       "Repository {} ist gesperrt durch {} ({}), die Sperre, die ein Backup hält, während es "
       "seinen Snapshot schreibt; die eines abgestürzten Halters läuft 2 Minuten nach ihrer "
       "letzten Auffrischung ab: --lock-wait 3m angeben, um so lange zu warten, oder, sobald auf "
       "jenem Host nichts von velin mehr läuft, sie mit `velin backup unlock` entfernen"},
      {"repository {} is locked by {} ({}), the lock a backup holds while it writes its "
       "snapshot, and its holder keeps refreshing it; retry later, or, once nothing of velin "
       "runs on that host, remove it with `velin backup unlock`",
       "Repository {} ist gesperrt durch {} ({}), die Sperre, die ein Backup hält, während es "
       "seinen Snapshot schreibt, und ihr Halter frischt sie weiter auf; später erneut "
       "versuchen oder, sobald auf jenem Host nichts von velin mehr läuft, sie mit `velin backup "
       "unlock` entfernen"},
      {"a lock that was replaced each time it was read",
       "eine Sperre, die bei jedem Lesen schon ersetzt war"},
      {"another velin took an exclusive lock while this run held its shared lock ({}, {}): a "
       "prune may be deleting what this run references",
       "ein anderes velin hat eine exklusive Sperre genommen, während dieser Lauf seine geteilte "
       "Sperre hielt ({}, {}): ein Prune löscht womöglich, worauf dieser Lauf verweist"},
      {"lost the repository lock {} on {}: {}; stopped before committing (what this run wrote is "
       "unreferenced; `velin backup prune` removes it)",
       "Repository-Sperre {} auf {} verloren: {}; vor dem Abschluss angehalten (was dieser Lauf "
       "schrieb, ist unreferenziert; `velin backup prune` entfernt es)"},
      {"lost the repository lock while writing backup {} ({}), and removing it failed ({}): a "
       "prune may have deleted data it needs; run `velin backup forget {}`",
       "Repository-Sperre beim Schreiben von Backup {} verloren ({}), und es zu entfernen schlug "
       "fehl ({}): ein Prune hat womöglich Daten gelöscht, die es braucht; `velin backup forget "
       "{}` ausführen"},
      {"unknown compression '{}' (zstd, gzip or none)",
       "unbekannte Kompression '{}' (zstd, gzip oder none)"},
      {"stored length differs from raw length", "gespeicherte Länge weicht von der Rohlänge ab"},
      {"zstd data is corrupt ({})", "zstd-Daten sind beschädigt ({})"},
      {"a delta blob cannot be read without its base",
       "ein Delta-Blob kann ohne seine Basis nicht gelesen werden"},
      {"zlib: inflateInit2 failed", "zlib: inflateInit2 fehlgeschlagen"},
      {"gzip data is corrupt", "gzip-Daten sind beschädigt"},
      {"unknown codec {}", "unbekannter Codec {}"},
      {"zstd: cannot reference a delta base", "zstd: kann keine Delta-Basis referenzieren"},
      {"zstd delta is corrupt ({})", "zstd-Delta ist beschädigt ({})"},
      {"delta edit script is truncated", "Delta-Bearbeitungsskript ist gekürzt"},
      {"delta edit script runs past its data",
       "Delta-Bearbeitungsskript reicht über seine Daten hinaus"},
      {"delta edit script reads outside its base",
       "Delta-Bearbeitungsskript liest außerhalb seiner Basis"},
      {"delta edit script does not come to the blob's length",
       "Delta-Bearbeitungsskript ergibt nicht die Länge des Blobs"},
      {"delta is empty", "Delta ist leer"},
      {"delta edit script has no valid zstd frame",
       "Delta-Bearbeitungsskript hat keinen gültigen zstd-Frame"},
      {"delta has unknown method {}", "Delta hat unbekannte Methode {}"},
      {"checksum mismatch (the snapshot object was modified or damaged)",
       "Prüfsumme stimmt nicht (das Snapshot-Objekt wurde verändert oder beschädigt)"},
      {"written by a newer velin (snapshot format {}; this velin reads format {}): upgrade velin",
       "von einem neueren velin geschrieben (Snapshot-Format {}; dieses velin liest Format {}): "
       "velin aktualisieren"},
      {"invalid snapshot format {}", "ungültiges Snapshot-Format {}"},
      {"empty", "leer"},
      {"not valid JSON (at byte {})", "kein gültiges JSON (bei Byte {})"},
      {"unexpected JSON ({})", "unerwartetes JSON ({})"},
      {"field '{}{}' is missing", "Feld '{}{}' fehlt"},
      {"field '{}' is missing", "Feld '{}' fehlt"},
      {"field '{}{}' is not a string", "Feld '{}{}' ist keine Zeichenkette"},
      {"field '{}{}' is not an integer in range", "Feld '{}{}' ist keine ganze Zahl im Bereich"},
      {"repository {} has key objects but its config says it is unencrypted (the config was "
       "altered)",
       "Repository {} hat Schlüsselobjekte, aber seine config sagt, es sei unverschlüsselt (die "
       "config wurde verändert)"},
      {"destination 's3://{}/…': the bucket goes where the host would (s3://bucket/prefix); set "
       "the server in storage.s3.endpoint",
       "destination 's3://{}/…': der Bucket steht an der Stelle des Hosts (s3://bucket/prefix); "
       "den Server in storage.s3.endpoint angeben"},
      {"sftp://{}: cannot read {}{}", "sftp://{}: kann {} nicht lesen{}"},
      {"VELIN_FAULT_SIGNAL='{}': expected N:SIGTERM",
       "VELIN_FAULT_SIGNAL='{}': erwartet N:SIGTERM"},
      {"VELIN_FAULT_BITFLIP='{}': expected PERCENT:SEED",
       "VELIN_FAULT_BITFLIP='{}': erwartet PROZENT:SEED"},
      {"destination '{}': unsupported scheme '{}' (supported: a local directory, file://, s3://, "
       "sftp://, ftp://, ftps://)",
       "destination '{}': nicht unterstütztes Schema '{}' (unterstützt: ein lokales Verzeichnis, "
       "file://, s3://, sftp://, ftp://, ftps://)"},
      {"repository path must be absolute: '{}'", "Repository-Pfad muss absolut sein: '{}'"},
      {"repository path {} is not a directory", "Repository-Pfad {} ist kein Verzeichnis"},
      {"invalid object name '{}' in {}", "ungültiger Objektname '{}' in {}"},
      {"object {} in {} is shorter than expected (wanted {} bytes at offset {}, got {})",
       "Objekt {} in {} ist kürzer als erwartet ({} Bytes ab Offset {} verlangt, {} erhalten)"},
      {"malformed XML entity in '{}'", "fehlerhafte XML-Entität in '{}'"},
      {"the server's reply is not a ListObjectsV2 result ({} bytes)",
       "die Antwort des Servers ist kein ListObjectsV2-Ergebnis ({} Bytes)"},
      {"malformed ListObjectsV2 result: <Contents> without <Key>",
       "fehlerhaftes ListObjectsV2-Ergebnis: <Contents> ohne <Key>"},
      {"malformed ListObjectsV2 result: <Size>{}</Size>",
       "fehlerhaftes ListObjectsV2-Ergebnis: <Size>{}</Size>"},
      {"malformed ListObjectsV2 result: truncated page without NextContinuationToken",
       "fehlerhaftes ListObjectsV2-Ergebnis: gekürzte Seite ohne NextContinuationToken"},
      {"cannot create a libcurl handle (out of memory?)",
       "kann kein libcurl-Handle anlegen (Speicher voll?)"},
      {"{}:{}: expected KEY=VALUE", "{}:{}: erwartet SCHLÜSSEL=WERT"},
      {"{}:{}: unknown key '{}' (expected AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, "
       "AWS_SESSION_TOKEN)",
       "{}:{}: unbekannter Schlüssel '{}' (erwartet: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, "
       "AWS_SESSION_TOKEN)"},
      {"{}: needs both AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
       "{}: braucht sowohl AWS_ACCESS_KEY_ID als auch AWS_SECRET_ACCESS_KEY"},
      {"storage.s3.credentials_file: {}", "storage.s3.credentials_file: {}"},
      // backup ls / find / diff / dump / stats (issue 21)
      {"  table {}: {} rows", "  Tabelle {}: {} Zeilen"},
      {"'{}' in backup {} is a directory; dump takes a file (`velin backup ls {} {}` lists it)",
       "'{}' in Backup {} ist ein Verzeichnis; dump nimmt eine Datei (`velin backup ls {} {}` "
       "listet es)"},
      {"'{}' in backup {} is a symlink to '{}'; dump takes a file",
       "'{}' in Backup {} ist ein symbolischer Link auf '{}'; dump nimmt eine Datei"},
      {"'{}' in backup {} is a {}; dump takes a file",
       "'{}' in Backup {} ist vom Typ {}; dump nimmt eine Datei"},
      {"'{}' references blob {}, which no index lists ({})",
       "'{}' verweist auf Blob {}, den kein Index führt ({})"},
      {"(database stream)", "(Datenbank-Stream)"},
      {"Backup {} ({}):", "Backup {} ({}):"},
      {"Backup {}:", "Backup {}:"},
      {"Backups", "Backups"},
      {"Changes from {} to {}:", "Änderungen von {} zu {}:"},
      {"Compr.", "Kompr."},
      {"Dedup", "Dedup"},
      {"Kind", "Art"},
      {"Logical", "Logisch"},
      {"No path matches '{}' in {} backup(s) of {}",
       "Kein Pfad passt auf '{}' in {} Backup(s) von {}"},
      {"Raw", "Roh"},
      {"Repository: {} backup(s)", "Repository: {} Backup(s)"},
      {"Source", "Quelle"},
      {"Stored", "Gespeichert"},
      {"The repository stores {} in {} blobs ({} of them needed by no backup: `velin backup "
       "prune` removes those in packs worth repacking, see backup.repack_threshold)",
       "Das Repository speichert {} in {} Blobs ({} davon braucht kein Backup: `velin backup "
       "prune` entfernt die in Packs, die sich umzupacken lohnen, siehe "
       "backup.repack_threshold)"},
      {"Trees", "Bäume"},
      {"backup dump writes the file's bytes to stdout; it has no --json document",
       "backup dump schreibt die Bytes der Datei auf stdout; es hat kein --json-Dokument"},
      {"backup {} '{}'", "Backup {} '{}'"},
      {"backup {}: '{}' references chunk {}, which no index lists ({})",
       "Backup {}: '{}' verweist auf Chunk {}, den kein Index führt ({})"},
      {"backup {}: hardlink '{}' points to '{}', not a file",
       "Backup {}: Hardlink '{}' zeigt auf '{}', keine Datei"},
      {"the pattern is empty", "das Muster ist leer"},
      {"total", "gesamt"},
      {"writing to stdout", "Schreiben auf stdout"},
      {"writing to stdout failed", "Schreiben auf stdout fehlgeschlagen"},
      {"{} (the command itself succeeded; its output is incomplete)",
       "{} (der Befehl selbst war erfolgreich; seine Ausgabe ist unvollständig)"},
      {"{}  database stream  {}  {} '{}' ({}, {})", "{}  Datenbank-Stream  {}  {} '{}' ({}, {})"},
      {"{}  stream  {}", "{}  Stream  {}"},
      {"{}  stream  {}  (failed: {})", "{}  Stream  {}  (fehlgeschlagen: {})"},
      {"{} added ({}), {} removed ({}), {} changed, {} metadata only",
       "{} hinzugefügt ({}), {} entfernt ({}), {} geändert, {} nur Metadaten"},
      {"{} match(es) in {} of {} backup(s)", "{} Treffer in {} von {} Backup(s)"},
      {"{} backup(s) could not be read and were not searched: {} (run `velin backup verify "
       "--all`)",
       "{} Backup(s) konnten nicht gelesen werden und wurden nicht durchsucht: {} (`velin backup "
       "verify --all` ausführen)"},
      {"{} backup(s) could not be read and are not counted: {} (run `velin backup verify --all`)",
       "{} Backup(s) konnten nicht gelesen werden und sind nicht mitgezählt: {} (`velin backup "
       "verify --all` ausführen)"},
      {"Repository: {} backup(s) and {} that could not be read",
       "Repository: {} Backup(s) und {}, die nicht gelesen werden konnten"},
      {"The repository stores {} in {} blobs (how many of them no backup references is unknown "
       "while a backup cannot be read)",
       "Das Repository speichert {} in {} Blobs (wie viele davon kein Backup referenziert, ist "
       "unbekannt, solange ein Backup nicht gelesen werden kann)"},
      {"no S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or "
       "storage.s3.credentials_file",
       "keine S3-Zugangsdaten: AWS_ACCESS_KEY_ID und AWS_SECRET_ACCESS_KEY oder "
       "storage.s3.credentials_file setzen"},
      {"destination '{}': bad percent-escape", "destination '{}': fehlerhafte Prozent-Kodierung"},
      {"'{}' is not a URL", "'{}' ist keine URL"},
      {"destination '{}': '.' and '..' are not allowed in the path; write the path without them",
       "destination '{}': '.' und '..' sind im Pfad nicht erlaubt; den Pfad ohne sie angeben"},
      {"destination '{}': '~' is not expanded in sftp:// paths; write the absolute path "
       "(sftp://user@host/home/user/dir)",
       "destination '{}': '~' wird in sftp://-Pfaden nicht aufgelöst; den absoluten Pfad angeben "
       "(sftp://user@host/home/user/dir)"},
      {"destination '{}': query strings and fragments are not supported",
       "destination '{}': Query-Strings und Fragmente werden nicht unterstützt"},
      {"destination '{}://…': a password does not belong in the URL (use VELIN_FTP_PASSWORD for "
       "FTP, a key file for SFTP)",
       "destination '{}://…': ein Passwort gehört nicht in die URL (VELIN_FTP_PASSWORD für FTP, "
       "eine Schlüsseldatei für SFTP verwenden)"},
      {"destination '{}': bad port '{}'", "destination '{}': ungültiger Port '{}'"},
      {"destination '{}': no host (or bucket) name",
       "destination '{}': kein Host- (oder Bucket-)Name"},
      {"destination '{}': plain FTP sends the data and the password in clear; use ftps:// or "
       "sftp://, or set allow_insecure = true in [backup]",
       "destination '{}': einfaches FTP überträgt Daten und Passwort im Klartext; ftps:// oder "
       "sftp:// verwenden oder allow_insecure = true in [backup] setzen"},
      {"storage.s3.endpoint '{}': plain HTTP sends the data and the credentials in clear; use "
       "https://, or set allow_insecure = true in [backup]",
       "storage.s3.endpoint '{}': einfaches HTTP überträgt Daten und Zugangsdaten im Klartext; "
       "https:// verwenden oder allow_insecure = true in [backup] setzen"},
      {"s3:// destination without a bucket name", "s3://-Ziel ohne Bucket-Namen"},
      {"storage.s3.parallel_uploads must be between 1 and 64",
       "storage.s3.parallel_uploads muss zwischen 1 und 64 liegen"},
      {"storage.s3.endpoint '{}' must start with https:// or http://",
       "storage.s3.endpoint '{}' muss mit https:// oder http:// beginnen"},
      {"storage.s3.endpoint '{}' names no server (https://host[:port])",
       "storage.s3.endpoint '{}' nennt keinen Server (https://host[:port])"},
      {"the endpoint {} did not answer as S3 ({}): check storage.s3.endpoint",
       "der Endpunkt {} antwortete nicht wie S3 ({}): storage.s3.endpoint prüfen"},
      {"HTTP 301 redirect to {}", "HTTP-301-Weiterleitung nach {}"},
      {"{}: get {}: short reply ({} of {} bytes)", "{}: get {}: kurze Antwort ({} von {} Bytes)"},
      {"{}: object {} is shorter than expected (wanted {} bytes at offset {})",
       "{}: Objekt {} ist kürzer als erwartet ({} Bytes ab Offset {} verlangt)"},
      {"{}: list: the server repeated a continuation token",
       "{}: list: der Server wiederholte ein Continuation-Token"},
      {"remote destination without a host name", "entferntes Ziel ohne Hostnamen"},
      {"{}://{}: the URL must name the user (user@host)",
       "{}://{}: die URL muss den Benutzer nennen (benutzer@host)"},
      {"{}: cannot keep a pack in {} while it is uploaded (set TMPDIR to a directory with room)",
       "{}: kann ein Paket nicht in {} halten, solange es hochgeladen wird (TMPDIR auf ein "
       "Verzeichnis mit Platz setzen)"},
      {"sftp://{}: set storage.sftp.key_file (a private key)",
       "sftp://{}: storage.sftp.key_file setzen (ein privater Schlüssel)"},
      {"sftp://{}: set storage.sftp.known_hosts (velin never connects unchecked)",
       "sftp://{}: storage.sftp.known_hosts setzen (velin verbindet sich nie ungeprüft)"},
      {"access denied: the server does not let '{}' create the directory {}",
       "Zugriff verweigert: der Server lässt '{}' das Verzeichnis {} nicht anlegen"},
      {"access denied: the server lists {} but does not let '{}' read it",
       "Zugriff verweigert: der Server listet {}, lässt '{}' es aber nicht lesen"},
      {"access denied: the server does not let '{}' into the directory {}",
       "Zugriff verweigert: der Server lässt '{}' nicht in das Verzeichnis {}"},
      {"storage.sftp.key_passphrase_env: environment variable {} is not set",
       "storage.sftp.key_passphrase_env: Umgebungsvariable {} ist nicht gesetzt"},
      {"storage.sftp.key_passphrase_file: {}", "storage.sftp.key_passphrase_file: {}"},
      {"storage.sftp.key_file {}: the key is protected by a passphrase and none is given (set "
       "storage.sftp.key_passphrase_env or storage.sftp.key_passphrase_file)",
       "storage.sftp.key_file {}: der Schlüssel ist durch eine Passphrase geschützt und keine ist "
       "angegeben (storage.sftp.key_passphrase_env oder storage.sftp.key_passphrase_file setzen)"},
      {"{}: object {} is shorter than expected (wanted {} bytes at offset {}, got {})",
       "{}: Objekt {} ist kürzer als erwartet ({} Bytes ab Offset {} verlangt, {} erhalten)"},
      {"backup copy: --to DIR|URL is required",
       "backup copy: --to VERZEICHNIS|URL ist erforderlich"},
      {"backup copy: name the backups to copy (ID …) or --all, not both",
       "backup copy: die zu kopierenden Backups nennen (ID …) oder --all, nicht beides"},
      {"backup copy: name the backups to copy (ID …, e.g. latest) or --all",
       "backup copy: die zu kopierenden Backups nennen (ID …, z. B. latest) oder --all"},
      {"{} of the backups already there lacked data there (in packs gone or damaged): {}",
       "{} der schon vorhandenen Backups fehlten dort Daten (in fehlenden oder beschädigten "
       "Packs): {}"},
      {"--lock-wait '{}' is not a duration (e.g. 30s; at most 36500d)",
       "--lock-wait '{}' ist keine Dauer (z. B. 30s; höchstens 36500d)"},
      {"no backup.destination configured", "kein backup.destination konfiguriert"},
      {"'{}' is relative to the current directory, which cannot be read",
       "'{}' ist relativ zum aktuellen Verzeichnis, das sich nicht lesen lässt"},
      {"--strategy '{}' must be full or incremental",
       "--strategy '{}' muss full oder incremental sein"},
      {"backup.include names nothing to back up", "backup.include nennt nichts zu Sicherndes"},
      {"backup {} was created without the database: {}",
       "Backup {} wurde ohne die Datenbank erstellt: {}"},
      {"backup {} was created, but the offsite copy to {} failed",
       "Backup {} wurde erstellt, aber die Offsite-Kopie nach {} ist fehlgeschlagen"},
      {"{} (the next create copies it, or now: velin backup copy {} --to {})",
       "{} (das nächste create kopiert es, oder jetzt: velin backup copy {} --to {})"},
      {"cannot note in {} that backup {} is due offsite: {}",
       "kann in {} nicht vermerken, dass Backup {} offsite fällig ist: {}"},
      {"cannot remove {} from {}: {}", "kann {} nicht aus {} entfernen: {}"},
      {"backup {}: {} (copy it by hand: velin backup copy {} --to {})",
       "Backup {}: {} (von Hand kopieren: velin backup copy {} --to {})"},
      {"backup {} was copied offsite to {}, but catching up earlier backups whose offsite copy "
       "had failed did not work",
       "Backup {} wurde offsite nach {} kopiert, aber das Nachholen früherer Backups, deren "
       "Offsite-Kopie fehlgeschlagen war, gelang nicht"},
      {"Also copied offsite: {} (their own offsite copy had failed)",
       "Auch offsite kopiert: {} (ihre eigene Offsite-Kopie war fehlgeschlagen)"},
      {"{} packs listed in the index are missing from the repository or truncated (first: {}); "
       "their data is stored again — run 'velin backup verify --all' to see which backups are "
       "damaged",
       "{} im Index verzeichnete Packs fehlen im Repository oder sind abgeschnitten (erstes: {}); "
       "ihre Daten werden erneut gespeichert — 'velin backup verify --all' zeigt, welche Backups "
       "beschädigt sind"},
      {"{} packs listed in the index of {} are missing there or truncated (first: {}); what the "
       "backups copied now need of them is copied again — run 'velin backup verify --all' on it "
       "to see which other backups there are damaged",
       "{} im Index von {} verzeichnete Packs fehlen dort oder sind abgeschnitten (erstes: {}); "
       "was die jetzt kopierten Backups davon brauchen, wird erneut kopiert — 'velin backup "
       "verify --all' dort zeigt, welche anderen Backups beschädigt sind"},
      {"{} packs a verify found damaged are not used (first: {}); their data is stored again — "
       "once no backup needs them, `velin backup prune` removes them",
       "{} Packs, die ein Verify beschädigt vorfand, werden nicht verwendet (erstes: {}); ihre "
       "Daten werden erneut gespeichert — sobald kein Backup sie mehr braucht, entfernt "
       "`velin backup prune` sie"},
      {"{} packs of {} that a verify found damaged are not used (first: {}); what the backups "
       "copied now need of them is copied again",
       "{} Packs von {}, die ein Verify beschädigt vorfand, werden nicht verwendet (erstes: {}); "
       "was die jetzt kopierten Backups davon brauchen, wird erneut kopiert"},
      {"cannot store {}: a directory is in its place (move it out of the repository)",
       "{} kann nicht gespeichert werden: an seiner Stelle steht ein Verzeichnis (es aus dem "
       "Repository verschieben)"},
      {"verify needs a backup ID or --all", "verify braucht eine Backup-ID oder --all"},
      {"verify takes a backup ID or --all, not both",
       "verify nimmt eine Backup-ID oder --all, nicht beides"},
      {"--database goes with --only db", "--database gehört zu --only db"},
      {"backup {} holds only a database, no files for --target; restore it with --only db "
       "[--database NAME]",
       "Backup {} enthält nur eine Datenbank, keine Dateien für --target; mit --only db "
       "[--database NAME] wiederherstellen"},
      {"backup.include names \"db\" but {} has no [database] section",
       "backup.include nennt \"db\", aber {} hat keinen Abschnitt [database]"},
      {"backup {} holds no database", "Backup {} enthält keine Datenbank"},
      {"backup {} holds no usable database dump: {}",
       "Backup {} enthält keinen verwendbaren Datenbank-Dump: {}"},
      {"backup {}: {}", "Backup {}: {}"},
      {"the backup holds a {} database but database.driver is '{}'",
       "das Backup enthält eine {}-Datenbank, aber database.driver ist '{}'"},
      {"backup {} holds a {} database but database.driver is '{}'",
       "Backup {} enthält eine {}-Datenbank, aber database.driver ist '{}'"},
      {"--restore-test-server does not apply to sqlite",
       "--restore-test-server gilt nicht für sqlite"},
      {"--restore-test-server '{}' must be HOST[:PORT]",
       "--restore-test-server '{}' muss HOST[:PORT] sein"},
      {"{}: restore test of backup {}: {}{}", "{}: Wiederherstellungstest von Backup {}: {}{}"},
      {"cannot create {}", "kann {} nicht anlegen"},
      {"repository passphrase: environment variable {} is empty",
       "Repository-Passphrase: Umgebungsvariable {} ist leer"},
      {"repository passphrase: {} is empty", "Repository-Passphrase: {} ist leer"},
      {"no repository passphrase: set backup.password_env or backup.password_file in {}",
       "keine Repository-Passphrase: backup.password_env oder backup.password_file in {} setzen"},
      {"no repository passphrase: set backup.password_env or backup.password_file",
       "keine Repository-Passphrase: backup.password_env oder backup.password_file setzen"},
      {"say where the new passphrase is: --new-password-env VAR or --new-password-file FILE "
       "(0600); velin never takes a passphrase from the command line",
       "angeben, wo die neue Passphrase steht: --new-password-env VAR oder --new-password-file "
       "DATEI (0600); velin nimmt nie eine Passphrase von der Befehlszeile"},
      {"the new passphrase is empty", "die neue Passphrase ist leer"},
      {"no repository: set backup.destination in velin.toml or pass --destination",
       "kein Repository: backup.destination in velin.toml setzen oder --destination angeben"},
      {"{} — no terminal to ask; pass --yes to confirm",
       "{} — kein Terminal für die Rückfrage; mit --yes bestätigen"},
      {"metrics file {}", "Metrik-Datei {}"},
      {"expected a name", "Name erwartet"},
      {"expected =\" after label {}", "=\" erwartet nach Label {}"},
      {"expected , or } after a label", ", oder } erwartet nach einem Label"},
      {"bad sample value '{}'", "ungültiger Messwert '{}'"},
      {"unexpected text after the value", "unerwarteter Text nach dem Wert"},
      {"bad escape \\{} in a label value", "ungültiges Escape \\{} in einem Label-Wert"},
      {"unterminated label value", "nicht abgeschlossener Label-Wert"},
      {"line {}", "Zeile {}"},
      {"database.path is required for the sqlite driver",
       "database.path ist für den sqlite-Treiber erforderlich"},
      {"database.name is required for the {} driver",
       "database.name ist für den {}-Treiber erforderlich"},
      {"unknown database driver '{}' (expected postgresql, mysql or sqlite)",
       "unbekannter Datenbanktreiber '{}' (erwartet: postgresql, mysql oder sqlite)"},
      {"out of memory initialising the MariaDB client",
       "Speicher voll beim Initialisieren des MariaDB-Clients"},
      {"{} not found in {}PATH (install {})", "{} nicht gefunden in {}PATH ({} installieren)"},
      {"'{} --version' failed ({})", "'{} --version' fehlgeschlagen ({})"},
      {"poll", "poll"},
      {"reading the dump", "beim Lesen des Dumps"},
      {"{} stopped reading its input", "{} hat aufgehört, seine Eingabe zu lesen"},
      {"the database password is longer than 4000 bytes",
       "das Datenbankpasswort ist länger als 4000 Bytes"},
      {"connection refused (is the server running and accepting TCP/IP connections?)",
       "Verbindung abgelehnt (läuft der Server und nimmt er TCP/IP-Verbindungen an?)"},
      {"unknown libpq error", "unbekannter libpq-Fehler"},
      {"cannot connect (is the server running and accepting TCP/IP connections?)",
       "keine Verbindung (läuft der Server und nimmt er TCP/IP-Verbindungen an?)"},
      {"cannot connect through the socket (is the server running?)",
       "keine Verbindung über den Socket (läuft der Server?)"},
      {"the database password holds a NUL byte", "das Datenbankpasswort enthält ein NUL-Byte"},
      {"database '{}': the password holds a NUL byte, which the MariaDB client cannot be given",
       "Datenbank '{}': das Passwort enthält ein NUL-Byte, das dem MariaDB-Client nicht übergeben "
       "werden kann"},
      {"cannot create a pipe", "kann keine Pipe anlegen"},
      {"cannot write to a pipe", "kann nicht in eine Pipe schreiben"},
      {"refusing to drop the configured database", "lösche die konfigurierte Datenbank nicht"},
      {"the file does not exist", "die Datei existiert nicht"},
      {"backup: {}", "Backup: {}"},
      {"the live database is damaged: {}", "die aktive Datenbank ist beschädigt: {}"},
      {"the dump to restore is damaged: {}", "der wiederherzustellende Dump ist beschädigt: {}"},
      {"cannot open: {}", "kann nicht öffnen: {}"},
      {"cannot open: it is a directory, not a SQLite database file",
       "kann nicht öffnen: das ist ein Verzeichnis, keine SQLite-Datenbankdatei"},
      {"integrity_check failed: {}", "integrity_check fehlgeschlagen: {}"},
      {"database metadata: '{}' missing or not a string",
       "Datenbank-Metadaten: '{}' fehlt oder ist keine Zeichenkette"},
      {"database metadata: '{}' missing or not an integer",
       "Datenbank-Metadaten: '{}' fehlt oder ist keine ganze Zahl"},
      {"database metadata: not a JSON object", "Datenbank-Metadaten: kein JSON-Objekt"},
      {"database metadata: 'tables' missing or not an array",
       "Datenbank-Metadaten: 'tables' fehlt oder ist kein Array"},
      {"database metadata: a table entry is not an object",
       "Datenbank-Metadaten: ein Tabelleneintrag ist kein Objekt"},
      {"out of memory connecting with libpq", "Speicher voll beim Verbinden mit libpq"},
      {"cannot create database '{}': {}", "kann Datenbank '{}' nicht anlegen: {}"},
      {"{}: database '{}' was created with the encoding {} of the backup's database but the "
       "locale C ({})",
       "{}: Datenbank '{}' wurde mit der Kodierung {} der gesicherten Datenbank angelegt, aber "
       "mit dem Locale C ({})"},
      {"{}: the dump holds a statement of {} bytes (rows of table '{}'), and this server's "
       "max_allowed_packet is {} bytes: a restore into it would be refused; raise it (SET GLOBAL "
       "max_allowed_packet = 1073741824, and max_allowed_packet = 1G under [mysqld] in its "
       "configuration)",
       "{}: der Dump enthält eine Anweisung von {} Bytes (Zeilen der Tabelle '{}'), und "
       "max_allowed_packet dieses Servers ist {} Bytes: eine Wiederherstellung in ihn würde "
       "abgelehnt; erhöhen Sie es (SET GLOBAL max_allowed_packet = 1073741824, und "
       "max_allowed_packet = 1G unter [mysqld] in seiner Konfiguration)"},
      {"the backup holds a statement of {} bytes, and this server's max_allowed_packet is {} "
       "bytes: it would refuse it part way, with tables already emptied; raise it (SET GLOBAL "
       "max_allowed_packet = 1073741824, as a user with SUPER) and restore again; nothing was "
       "changed",
       "das Backup enthält eine Anweisung von {} Bytes, und max_allowed_packet dieses Servers "
       "ist {} Bytes: er würde sie mittendrin ablehnen, mit bereits geleerten Tabellen; erhöhen "
       "Sie es (SET GLOBAL max_allowed_packet = 1073741824, als Benutzer mit SUPER) und stellen "
       "Sie erneut wieder her; nichts wurde geändert"},
      {"restoring into '{}': {}", "beim Wiederherstellen in '{}': {}"},
      {"check of table '{}' failed: {}", "Prüfung der Tabelle '{}' fehlgeschlagen: {}"},
      {"cannot create temporary database '{}': {}",
       "kann temporäre Datenbank '{}' nicht anlegen: {}"},
      {"cannot drop database '{}': {}", "kann Datenbank '{}' nicht löschen: {}"},
      {"cannot create temporary database '{}': {}: the restore test makes and drops a "
       "database of its own; let the user do so (as a superuser: ALTER ROLE {} CREATEDB;) or "
       "test on another server (--restore-test-server HOST[:PORT])",
       "kann temporäre Datenbank '{}' nicht anlegen: {}: der Wiederherstellungstest legt eine "
       "eigene Datenbank an und löscht sie wieder; dem "
       "Benutzer das erlauben (als Superuser: ALTER ROLE {} CREATEDB;) oder auf einem anderen "
       "Server testen (--restore-test-server HOST[:PORT])"},
      {"cannot create temporary database '{}': {}: the restore test makes and drops a "
       "database of its own, named velin_restore_test_…; grant the user that (as an "
       "administrator: GRANT ALL ON `velin\\_restore\\_test\\_%`.* TO {};) or test on "
       "another server (--restore-test-server HOST[:PORT])",
       "kann temporäre Datenbank '{}' nicht anlegen: {}: der Wiederherstellungstest legt eine "
       "eigene Datenbank namens velin_restore_test_… an "
       "und löscht sie wieder; dem Benutzer das erlauben (als Administrator: GRANT ALL ON "
       "`velin\\_restore\\_test\\_%`.* TO {};) oder auf einem anderen Server testen "
       "(--restore-test-server HOST[:PORT])"},
      {"cannot create database '{}': {}: a restore into a database that does not exist "
       "creates it; let the user do so (as a superuser: ALTER ROLE {} CREATEDB;) or create "
       "it for the user first (as a superuser: CREATE DATABASE {} OWNER {};)",
       "kann Datenbank '{}' nicht anlegen: {}: eine Wiederherstellung in eine Datenbank, die es "
       "nicht gibt, legt sie an; dem Benutzer das erlauben (als Superuser: ALTER ROLE {} "
       "CREATEDB;) oder sie zuerst für den Benutzer anlegen (als Superuser: CREATE DATABASE {} "
       "OWNER {};)"},
      {"cannot create database '{}': {}: a restore into a database that does not exist "
       "creates it; grant the user that database (as an administrator: GRANT ALL ON {}.* TO "
       "{};), which lets it create it",
       "kann Datenbank '{}' nicht anlegen: {}: eine Wiederherstellung in eine Datenbank, die es "
       "nicht gibt, legt sie an; dem Benutzer diese Datenbank gewähren (als Administrator: "
       "GRANT ALL ON {}.* TO {};), womit er sie anlegen darf"},
      {"another process", "einem anderen Prozess"},
      {"; nothing was changed: the restore is one transaction, which did not commit",
       "; nichts wurde geändert: die Wiederherstellung ist eine Transaktion, die nicht "
       "abgeschlossen wurde"},
      {"--target {} is where files go, and --only db restores none: the database would be "
       "restored in place, over database '{}'; name where it goes with --database NAME (or "
       "--database-url URL), or leave out --target to restore it in place; nothing was "
       "changed",
       "--target {} ist das Ziel für Dateien, und --only db stellt keine wieder her: die "
       "Datenbank würde an Ort und Stelle wiederhergestellt, über Datenbank '{}'; nennen Sie "
       "ihr Ziel mit --database NAME (oder --database-url URL), oder lassen Sie --target weg, "
       "um sie an Ort und Stelle wiederherzustellen; nichts wurde geändert"},
      {"restoring into '{}': the file there is not a SQLite database (it does not begin with "
       "SQLite's header): a restore replaces a SQLite database or an empty file, nothing "
       "else; name another file, or move this one away first; nothing was changed",
       "Wiederherstellung in '{}': die Datei dort ist keine SQLite-Datenbank (sie beginnt nicht "
       "mit dem Kopf von SQLite): eine Wiederherstellung ersetzt eine SQLite-Datenbank oder eine "
       "leere Datei, sonst nichts; nennen Sie eine andere Datei, oder verschieben Sie diese "
       "zuerst; nichts wurde geändert"},
      {"process {}", "Prozess {}"},
      {"process {} ({})", "Prozess {} ({})"},
      {"{} is open in {}, which holds a lock on it: that process goes on with the database "
       "file it has open, replaced now, until it opens the database again (it does not see "
       "what was restored, and what it writes meanwhile is lost): restart it now, and stop "
       "the application before a restore",
       "{} ist geöffnet in {}, der sie gesperrt hält: dieser Prozess arbeitet mit der "
       "Datenbankdatei weiter, die er offen hat und die nun ersetzt ist, bis er die Datenbank "
       "neu öffnet (er sieht nicht, was wiederhergestellt wurde, und was er bis dahin schreibt, "
       "geht verloren): starten Sie ihn jetzt neu, und stoppen Sie die Anwendung vor einer "
       "Wiederherstellung"},
      {"; database '{}', which this restore created, is left as the restore stopped, incomplete "
       "(it could not be dropped again: {}): drop it, or restore into it again",
       "; Datenbank '{}', die diese Wiederherstellung angelegt hat, bleibt so, wie die "
       "Wiederherstellung abbrach, unvollständig (sie ließ sich nicht wieder löschen: {}): "
       "löschen Sie sie, oder stellen Sie erneut in sie wieder her"},
      {"; the restore is one transaction, which did not commit, so no data that was there was "
       "changed; but database '{}', which this restore created, is left, without the backup's "
       "data (it could not be dropped again: {}): drop it (DROP DATABASE \"{}\"), or restore "
       "into it again",
       "; die Wiederherstellung ist eine Transaktion, die nicht bestätigt wurde, also wurden keine "
       "vorhandenen Daten geändert; aber Datenbank '{}', die diese Wiederherstellung angelegt hat, "
       "bleibt bestehen, ohne die Daten der Sicherung (sie ließ sich nicht wieder löschen: {}): "
       "löschen Sie sie (DROP DATABASE \"{}\"), oder stellen Sie erneut in sie wieder her"},
      {"check failed: {}", "Prüfung fehlgeschlagen: {}"},
      {"pg_dump {} ({}) cannot dump a PostgreSQL {} server: install pg_dump {} or newer "
       "(postgresql-client-{})",
       "pg_dump {} ({}) kann keinen PostgreSQL-{}-Server sichern: pg_dump {} oder neuer "
       "installieren (postgresql-client-{})"},
      {"the backup records {} bytes but its chunks hold {}",
       "das Backup verzeichnet {} Bytes, seine Chunks enthalten aber {}"},
      {"refusing to restore through {}: it is not a directory (a symlink is followed only where "
       "the backup followed one; restore elsewhere with --target, or remove it)",
       "stelle nicht durch {} hindurch wieder her: es ist kein Verzeichnis (einem Symlink wird nur "
       "gefolgt, wo das Backup einem folgte; mit --target anderswohin wiederherstellen oder ihn "
       "entfernen)"},
      {"refusing to replace the symlink {}: the backup followed it to '{}' and it now points "
       "elsewhere; fix the link or restore with --target",
       "ersetze den Symlink {} nicht: das Backup folgte ihm nach '{}', und er zeigt jetzt "
       "woandershin; den Link korrigieren oder mit --target wiederherstellen"},
      {"hardlink {} names an invalid path '{}'", "Hardlink {} nennt einen ungültigen Pfad '{}'"},
      {"hardlink {} points to '{}', not a file", "Hardlink {} zeigt auf '{}', keine Datei"},
      {"--only '{}' is not a valid path", "--only '{}' ist kein gültiger Pfad"},
      {"backup {} names an invalid path '{}'", "Backup {} nennt einen ungültigen Pfad '{}'"},
      {"backup {}: source '{}' records a link '{}' off its path",
       "Backup {}: Quelle '{}' verzeichnet einen Link '{}' außerhalb ihres Pfads"},
      {"backup {}: source '{}' has a bad root", "Backup {}: Quelle '{}' hat eine ungültige Wurzel"},
      {"backup {} holds no files to restore",
       "Backup {} enthält keine wiederherzustellenden Dateien"},
      {"backup {} has no path '{}'", "Backup {} hat keinen Pfad '{}'"},
      {"syncfs {}", "syncfs {}"},
      {"backup.include '{}' must be a path inside app.root (relative, without '..')",
       "backup.include '{}' muss ein Pfad in app.root sein (relativ, ohne '..')"},
      {"source '{}'", "Quelle '{}'"},
      {"backup.include '{}'", "backup.include '{}'"},
      {"backup {} has no stream source '{}'", "Backup {} hat keine Stream-Quelle '{}'"},
      {"backup {} source {}", "Backup {} Quelle {}"},
      {"unsupported file type", "nicht unterstützter Dateityp"},
      {"{} is a symlink to a symlink ({}); name its final target",
       "{} ist ein Symlink auf einen Symlink ({}); sein endgültiges Ziel angeben"},
      {"{} is not a file or directory", "{} ist weder Datei noch Verzeichnis"},
      {"{} exists and is not a directory", "{} existiert und ist kein Verzeichnis"},
      {"cannot write {}", "kann {} nicht schreiben"},
      {"cannot chown {}", "kann Eigentümer von {} nicht setzen"},
      {"cannot set mode of {}", "kann Rechte von {} nicht setzen"},
      {"cannot set mtime of {}", "kann Änderungszeit von {} nicht setzen"},
      {"cannot fsync {}", "kann {} nicht mit fsync sichern"},
      {"cannot close {}", "kann {} nicht schließen"},
      {"cannot seek in {}", "kann in {} nicht positionieren"},
      {"cannot read {}", "kann {} nicht lesen"},
      {"cannot stat {}", "kann {} nicht abfragen (stat)"},
      {"cannot open {}", "kann {} nicht öffnen"},
      {"cannot list {}", "kann {} nicht auflisten"},
      {"{} is nested deeper than velin's stack reaches: raise it (`ulimit -s`) or leave the "
       "directory out (backup.exclude)",
       "{} ist tiefer verschachtelt, als velins Stack reicht: erhöhen Sie ihn (`ulimit -s`) oder "
       "lassen Sie das Verzeichnis aus (backup.exclude)"},
      {"{} is nested deeper than velin's stack reaches: raise it (`ulimit -s`)",
       "{} ist tiefer verschachtelt, als velins Stack reicht: erhöhen Sie ihn (`ulimit -s`)"},
      {"cannot create directory {}", "kann Verzeichnis {} nicht anlegen"},
      {"cannot rename {} to {}", "kann {} nicht in {} umbenennen"},
      {"cannot remove {}", "kann {} nicht entfernen"},
      {"cannot remove directory {}", "kann Verzeichnis {} nicht entfernen"},
      {"cannot open directory {}", "kann Verzeichnis {} nicht öffnen"},
      {"cannot fsync directory {}", "kann Verzeichnis {} nicht mit fsync sichern"},
      {"cannot create symlink {}", "kann Symlink {} nicht anlegen"},
      {"cannot read symlink {}", "kann Symlink {} nicht lesen"},
      {"cannot link {} to {}", "kann {} nicht mit {} verlinken"},
      {"cannot start a process without a program name",
       "kann keinen Prozess ohne Programmnamen starten"},
      {"cannot create a pipe for {}", "kann keine Pipe für {} anlegen"},
      {"cannot start {}", "kann {} nicht starten"},
      {"cannot run '{}'", "kann '{}' nicht ausführen"},
      {"cannot run '{}' in {}", "kann '{}' nicht in {} ausführen"},
      {"no process to wait for", "kein Prozess, auf den gewartet werden kann"},
      {"waiting for process {}", "beim Warten auf Prozess {}"},
      {"{} does not exist", "{} existiert nicht"},
      {"cannot read {}: {}", "kann {} nicht lesen: {}"},
      {"{} is not a regular file", "{} ist keine normale Datei"},
      {"{} arrived while velin worked: it finished that work first (its outcome is above) and "
       "now ends by the signal",
       "{} kam, während velin arbeitete: es hat diese Arbeit zuerst beendet (das Ergebnis steht "
       "oben) und endet jetzt durch das Signal"},
      {"{} can be read by other users (mode {}); run: chmod 600 {}",
       "{} ist für andere Benutzer lesbar (Modus {}); ausführen: chmod 600 {}"},
      {"{}: {} may hold a token, and {} is readable by other users (mode {:04o}): `chmod 600 {}`, "
       "or give the URL through the environment ({})",
       "{}: {} kann ein Token enthalten, und {} ist für andere Benutzer lesbar (Modus {:04o}): "
       "`chmod 600 {}`, oder die URL über die Umgebung angeben ({})"},
      {"new index in place, removing what it replaces (run prune again)",
       "neuer Index geschrieben, beim Entfernen dessen, was er ersetzt (prune erneut ausführen)"},
      {"New index written ({} packs); removing what it replaces",
       "Neuer Index geschrieben ({} Packs); entferne, was er ersetzt"},
      {"backup {} references blob {}, which no index lists; prune refuses to run (run `velin "
       "backup verify --all`)",
       "Backup {} verweist auf Blob {}, den kein Index nennt; prune läuft nicht (`velin backup "
       "verify --all` ausführen)"},
      {"blob {} is in pack {}, which is missing; prune refuses to run (run `velin backup verify "
       "--all`)",
       "Blob {} liegt in Pack {}, das fehlt; prune läuft nicht (`velin backup verify --all` "
       "ausführen)"},
      {"the index lists delta blob {} whose base {} no index lists; it counts as not stored (run "
       "`velin backup prune` to drop the entry)",
       "Der Index nennt Delta-Blob {}, dessen Basis {} kein Index nennt; er gilt als nicht "
       "gespeichert (`velin backup prune` entfernt den Eintrag)"},
      {"delta base blob {} is listed by no index; prune refuses to run (run `velin backup verify "
       "--all`)",
       "Delta-Basis-Blob {} steht in keinem Index; prune läuft nicht (`velin backup verify --all` "
       "ausführen)"},
      {"{}: blob {} is damaged; prune refuses to copy it",
       "{}: Blob {} ist beschädigt; prune kopiert ihn nicht"},
      {"{}: blob {} lies outside the pack", "{}: Blob {} liegt außerhalb des Packs"},
      {"{}: {}; prune refuses to run (run `velin backup verify --all`)",
       "{}: {}; prune läuft nicht (`velin backup verify --all` ausführen)"},
      {"{}; prune refuses to run (run `velin backup verify --all`)",
       "{}; prune läuft nicht (`velin backup verify --all` ausführen)"},
      {"{} (left alone)", "{} (bleibt unberührt)"},
      {"{}; it is passed over as the parent of this backup (run `velin backup verify --all`, "
       "and `velin backup forget` the backup once you know it is lost)",
       "{}; es wird als Vorgänger dieses Backups übergangen (`velin backup verify --all` "
       "ausführen, und das Backup mit `velin backup forget` vergessen, sobald feststeht, dass es "
       "verloren ist)"},
      {"{} backups cannot be read ({} among them); they are passed over as the parent of this "
       "backup (run `velin backup verify --all`, and `velin backup forget` those that are lost)",
       "{} Backups sind nicht lesbar ({} darunter); sie werden als Vorgänger dieses Backups "
       "übergangen (`velin backup verify --all` ausführen, und die verlorenen mit `velin backup "
       "forget` vergessen)"},
      {"{} is not a backup (its name cannot be a backup id): ignored; remove it from the "
       "repository",
       "{} ist kein Backup (der Name kann keine Backup-ID sein): ignoriert; aus dem Repository "
       "entfernen"},
      {"database '{}'", "Datenbank '{}'"},
      {"ID", "ID"},
      {"Would delete {} and repack {} of {}, freeing about {} (dry run)",
       "Würde {0} löschen und {1} von {2} neu packen, etwa {3} frei (Probelauf)"},
      {"{}: {} was missing and {} held it (a velin stopped while replacing it): put it back",
       "{}: {} fehlte, und {} enthielt es (ein velin wurde beim Ersetzen angehalten): "
       "zurückgelegt"},
      {"{}: {} is missing and {} holds it (a velin stopped while replacing it), which could not "
       "be renamed back ({}): read from there",
       "{}: {} fehlt, und {} enthält es (ein velin wurde beim Ersetzen angehalten); es ließ sich "
       "nicht zurück umbenennen ({}): von dort gelesen"},
      {"the backup stands, but forget/prune after it failed: {}",
       "das Backup bleibt bestehen, aber forget/prune danach ist fehlgeschlagen: {}"},
      {"{} old backup(s) forgotten, {} freed", "{} alte(s) Backup(s) vergessen, {} freigegeben"},
      {" (stale)", " (verwaist)"},
      {"Backups: {}", "Backups: {}"},
      {"FAILED", "FEHLGESCHLAGEN"},
      {"Last verify: {} ago, {}", "Letzte Prüfung: vor {}, {}"},
      {"Lock: {} lock by host {} pid {}, {} ago{}",
       "Sperre: {} Sperre von Host {} PID {}, vor {}{}"},
      {"Lock: {} lock by host {} pid {}, of unknown age{}",
       "Sperre: {} Sperre von Host {} PID {}, Alter unbekannt{}"},
      {"Lock: {} is unreadable (not a lock this velin can read), of unknown age{}",
       "Sperre: {} ist unlesbar (keine Sperre, die dieses velin lesen kann), Alter unbekannt{}"},
      {"dated {} in the future (clock skew?)", "um {} in die Zukunft datiert (falsche Uhr?)"},
      {"Newest: {} ({} ago)", "Neuestes: {} (vor {})"},
      {"Repository: {} ({}, {}, {})", "Repository: {} ({}, {}, {})"},
      {"intact", "intakt"},
      {"no successful verify is recorded (monitor.max_verify_age is {})",
       "keine erfolgreiche Prüfung verzeichnet (monitor.max_verify_age ist {})"},
      {"the last successful verify was {} ago (monitor.max_verify_age is {})",
       "die letzte erfolgreiche Prüfung war vor {} (monitor.max_verify_age ist {})"},
      {"backup {} is still due at the earlier offsite {} (backup.offsite is now {}): copy "
       "it with velin backup copy {} --to {}, or remove {} from {}",
       "Backup {} steht noch für das frühere Offsite-Ziel {} aus (backup.offsite ist jetzt {}): "
       "kopieren Sie es mit velin backup copy {} --to {}, oder entfernen Sie {} aus {}"},
      {"the last verify, {} ago, found damage (`velin backup verify --all` names it; status is "
       "good again once a verify finds none)",
       "die letzte Prüfung vor {} fand Schäden (`velin backup verify --all` nennt sie; der Status "
       "ist wieder gut, sobald eine Prüfung keine findet)"},
      {"the newest backup {} is {} old (monitor.max_age is {})",
       "das neueste Backup {} ist {} alt (monitor.max_age ist {})"},
      {"Remove all {} lock(s) of {}, including live ones?",
       "Alle {} Sperre(n) von {} entfernen, auch aktive?"},
      {"Removed {} ({} lock by host {} pid {})", "{} entfernt ({} Sperre von Host {} PID {})"},
      {"Repository upgraded to format version {} (delta blobs, extended attributes, fifos and "
       "device nodes)",
       "Repository auf Formatversion {} aktualisiert (Delta-Blobs, erweiterte Attribute, FIFOs "
       "und Gerätedateien)"},
      {"Upgrading {} from format version {} to {}: velin versions that read only up to version {} "
       "will refuse it afterwards",
       "Aktualisiere {} von Formatversion {} auf {}: velin-Versionen, die nur bis Version {} "
       "lesen, lehnen es danach ab"},
      {"{} is already at format version {}", "{} hat bereits Formatversion {}"},
      {"could not record the verify outcome: {}", "konnte das Prüfergebnis nicht festhalten: {}"},
      {"could not update the verify record: {}", "konnte den Prüfvermerk nicht aktualisieren: {}"},
      // A repository without a velin.toml; restore --include/--exclude (issue 21).
      {"cannot look for velin.toml: the working directory is gone ({}); cd into the "
       "application, or use --config FILE",
       "velin.toml kann nicht gesucht werden: das Arbeitsverzeichnis ist weg ({}); in die "
       "Anwendung wechseln (cd) oder --config DATEI angeben"},
      {"no velin.toml in {} or any parent directory (use --config FILE, or --repo URL / "
       "VELIN_REPOSITORY for a repository alone)",
       "keine velin.toml in {} oder einem übergeordneten Verzeichnis (--config DATEI angeben, "
       "oder --repo URL / VELIN_REPOSITORY für ein Repository allein)"},
      {"'velin {}' needs a velin.toml and there is none in {} or any parent directory (use "
       "--config FILE); --repo alone serves list, restore, verify, ls, find, diff, dump, stats, "
       "unlock and key",
       "'velin {}' braucht eine velin.toml, und in {} oder einem übergeordneten Verzeichnis gibt "
       "es keine (--config DATEI angeben); --repo allein genügt für list, restore, verify, ls, "
       "find, diff, dump, stats, unlock und key"},
      {"no repository passphrase: set {} or pass --password-file FILE",
       "keine Repository-Passphrase: {} setzen oder --password-file DATEI angeben"},
      {"backup {} holds a database; without a velin.toml say where it goes with --database-url "
       "URL (postgres://USER@HOST/NAME, mysql://USER@HOST/NAME, sqlite:PATH)",
       "Backup {} enthält eine Datenbank; ohne velin.toml mit --database-url URL angeben, wohin "
       "sie soll (postgres://BENUTZER@HOST/NAME, mysql://BENUTZER@HOST/NAME, sqlite:PFAD)"},
      {"without a velin.toml there is no app.root to restore into: pass --target DIR",
       "ohne velin.toml gibt es kein app.root zum Wiederherstellen: --target VERZEICHNIS angeben"},
      {"--include and --exclude select files, not --only db",
       "--include und --exclude wählen Dateien aus, nicht --only db"},
      {"{} needs a pattern of 1 to 4096 printable characters",
       "{} braucht ein Muster aus 1 bis 4096 druckbaren Zeichen"},
      {"{} '{}': patterns are relative to app.root (like backup.exclude), not absolute",
       "{} '{}': Muster sind relativ zu app.root (wie backup.exclude), nicht absolut"},
      {"--include '{}' matches nothing in backup {}{}; nothing was restored",
       "--include '{}' passt auf nichts in Backup {}{}; nichts wurde wiederhergestellt"},
      {" under '{}'", " unter '{}'"},
      {"Dry run: {} file ({}) would be read; about {} would be added (before compression); "
       "nothing was written to {}",
       "Probelauf: {} Datei ({}) würde gelesen; etwa {} kämen hinzu (vor der Kompression); "
       "nichts wurde nach {} geschrieben"},
      {"Dry run: {} files ({}) would be read; about {} would be added (before compression); "
       "nothing was written to {}",
       "Probelauf: {} Dateien ({}) würden gelesen; etwa {} kämen hinzu (vor der Kompression); "
       "nichts wurde nach {} geschrieben"},
      {"The database ({}) would be dumped; a dry run does not dump it",
       "Die Datenbank ({}) würde gesichert; ein Probelauf sichert sie nicht"},
      {"--database-url '{}': {} (the forms: {})", "--database-url '{}': {} (die Formen: {})"},
      {"--database-url holds a control character (the forms: {})",
       "--database-url enthält ein Steuerzeichen (die Formen: {})"},
      {"--database-url holds a password: velin never takes one from the command line; leave it "
       "out of the URL and put it in PGPASSWORD or ~/.pgpass (PostgreSQL), MYSQL_PWD or "
       "~/.my.cnf (MariaDB/MySQL)",
       "--database-url enthält ein Passwort: velin nimmt nie eines von der Befehlszeile; es aus "
       "der URL weglassen und in PGPASSWORD oder ~/.pgpass (PostgreSQL), MYSQL_PWD oder "
       "~/.my.cnf (MariaDB/MySQL) ablegen"},
      {"no scheme", "kein Schema"},
      {"no database file", "keine Datenbankdatei"},
      {"unknown scheme '{}'", "unbekanntes Schema '{}'"},
      {"no //HOST", "kein //HOST"},
      {"bad user", "ungültiger Benutzer"},
      {"unclosed [ in the host", "nicht geschlossene [ im Host"},
      {"bad host", "ungültiger Host"},
      {"bad port '{}'", "ungültiger Port '{}'"},
      {"no database name after the host (…/NAME)", "kein Datenbankname nach dem Host (…/NAME)"},
      {"the only parameter is ?socket=PATH", "der einzige Parameter ist ?socket=PFAD"},
      {"?socket= needs an absolute path", "?socket= braucht einen absoluten Pfad"},
      {"unknown command '{} {}' (the commands of '{}' are: {})",
       "unbekannter Befehl '{} {}' (die Befehle von '{}' sind: {})"},
      {"current: {} {} {}", "current: {} {} {}"},
      {"start: {}", "Start: {}"},
      {"stop: {}", "Stopp: {}"},
      {"Current: {}", "Aktuell: {}"},
      {"Current: {} (missing: {} does not exist)", "Aktuell: {} (fehlt: {} existiert nicht)"},
      {"Deadline {} ({} left)", "Frist {} (noch {})"},
      {"Transaction {} ({}), base {}, started {} by {}",
       "Transaktion {} ({}), Basis {}, begonnen {} von {}"},
      {"Transaction {} {} (back to {})", "Transaktion {} {} (zurück zu {})"},
      {"latest is backup {}, dated {}, after this machine's clock: a clock was or is wrong, and a "
       "backup made since may hold newer data (`velin backup list` shows them; name one by its "
       "ID)",
       "latest ist Backup {}, datiert {}, nach der Uhr dieses Rechners: eine Uhr ging oder geht "
       "falsch, und ein seither gemachtes Backup kann neuere Daten enthalten (`velin backup list` "
       "zeigt sie; eines mit seiner ID nennen)"},
      {"{} backup(s) are dated after this machine's clock (first: {} at {}): a clock was wrong "
       "when they were made, or is wrong now; the newest backup's age is judged without them",
       "{} Backup(s) sind nach der Uhr dieses Rechners datiert (erstes: {} um {}): eine Uhr ging "
       "falsch, als sie gemacht wurden, oder geht jetzt falsch; das Alter des neuesten Backups "
       "wird ohne sie beurteilt"},
      {"every backup of host '{}', app '{}' is dated after this machine's clock ({}): is the "
       "clock wrong?",
       "jedes Backup von Host '{}', App '{}' ist nach der Uhr dieses Rechners datiert ({}): geht "
       "die Uhr falsch?"},
      {"the last successful verify is dated {}, after this machine's clock: a clock was wrong "
       "when it ran, or is wrong now; it counts as no verify",
       "die letzte erfolgreiche Prüfung ist {} datiert, nach der Uhr dieses Rechners: eine Uhr "
       "ging falsch, als sie lief, oder geht jetzt falsch; sie gilt als keine Prüfung"},
      {"no successful verify is recorded before this machine's clock (monitor.max_verify_age "
       "is {})",
       "keine erfolgreiche Prüfung vor der Uhr dieses Rechners verzeichnet "
       "(monitor.max_verify_age ist {})"},
      {"Last verify: {} (after this machine's clock), {}",
       "Letzte Prüfung: {} (nach der Uhr dieses Rechners), {}"},
      {"cannot read the storage's clock ({}): lock ages are measured by this machine's clock",
       "die Uhr des Speichers lässt sich nicht lesen ({}): das Alter der Sperren wird mit der Uhr "
       "dieses Rechners gemessen"},
      {"the newest backup of {}, {}, is dated {}, after this machine's clock: a clock was wrong "
       "when it was made, or is wrong now; it counts as the newest (`latest`) and retention "
       "keeps it until then",
       "das neueste Backup von {}, {}, ist {} datiert, nach der Uhr dieses Rechners: eine Uhr "
       "ging falsch, als es gemacht wurde, oder geht jetzt falsch; es gilt als das neueste "
       "(`latest`), und die Aufbewahrung behält es bis dahin"},
      {"{}: is a device or socket, not a config file",
       "{}: ist ein Gerät oder Socket, keine Konfigurationsdatei"},
      {"{}: is {} bytes, too large for a config file (at most {})",
       "{}: ist {} Bytes groß, zu groß für eine Konfigurationsdatei (höchstens {})"},
      {"{}: is more than {} bytes, too large for a config file",
       "{}: ist größer als {} Bytes, zu groß für eine Konfigurationsdatei"},
      {"{} holds a NUL character (\\u0000), which no path, name or command can hold",
       "{} enthält ein NUL-Zeichen (\\u0000), das kein Pfad, Name oder Befehl enthalten kann"},
      {"a key or table name of more than {} dotted parts",
       "ein Schlüssel- oder Tabellenname aus mehr als {} Teilen mit Punkten"},
      {"key 'offsite' in [backup]: {} is the repository of backup.destination ({}): an offsite "
       "copy there would be no second copy",
       "Schlüssel 'offsite' in [backup]: {} ist das Repository von backup.destination ({}): eine "
       "Offsite-Kopie dorthin wäre keine zweite Kopie"},
      {"{} is the repository the backups are copied from: a copy there would be no second copy",
       "{} ist das Repository, aus dem die Backups kopiert werden: eine Kopie dorthin wäre keine "
       "zweite Kopie"},
      {"backup.offsite {} is the repository backed up to: an offsite copy there would be no "
       "second copy",
       "backup.offsite {} ist das Repository, in das gesichert wird: eine Offsite-Kopie dorthin "
       "wäre keine zweite Kopie"},
      {"backup.include '{}' holds a NUL character: no file has that name, and a backup could not "
       "record it",
       "backup.include '{}' enthält ein NUL-Zeichen: keine Datei hat diesen Namen, und ein Backup "
       "könnte ihn nicht aufzeichnen"},
      {"cannot record the name '{}' in a backup (empty, '.', '..', '/' or NUL): no restore could "
       "read it",
       "der Name '{}' kann nicht in einem Backup aufgezeichnet werden (leer, '.', '..', '/' oder "
       "NUL): keine Wiederherstellung könnte ihn lesen"},
      {"{}: a directory is in its place; move it away and restore again",
       "{}: an seiner Stelle steht ein Verzeichnis; es wegräumen und erneut wiederherstellen"},
      {"{}: '{}' holds {} ({}); list the application's own paths instead (e.g. \"bin\", "
       "\"public\")",
       "{}: '{}' enthält {} ({}); stattdessen die eigenen Pfade der Anwendung aufzählen (z. B. "
       "\"bin\", \"public\")"},
      {"the current link", "den current-Link"},
      {"extend: the deadline would be more than {} away",
       "extend: die Frist läge mehr als {} in der Zukunft"},
      {"{}: '{}' is not a duration (e.g. 90s, 10m, 1h; at most 36500d)",
       "{}: '{}' ist keine Dauer (z. B. 90s, 10m, 1h; höchstens 36500d)"},
      {"{}: the duration must be positive, not '{}' (e.g. 90s)",
       "{}: die Dauer muss positiv sein, nicht '{}' (z. B. 90s)"},
      {"(base {})", "(Basis {})"},
      {"Base of transaction {}", "Basis der Transaktion {}"},
      {"{}: {}", "{}: {}"},
      {"{}; {}", "{}; {}"},
      {"{}:{}:{}: {}", "{}:{}:{}: {}"},
      {"exit code {}", "Exit-Code {}"},
      {"killed by signal {}", "durch Signal {} beendet"},
      {"killed by signal {} (SIG{})", "durch Signal {} (SIG{}) beendet"},
      {"OpenSSL has no {}", "OpenSSL kennt {} nicht"},
      {"wrong passphrase for repository {} (tried {} key)",
       "falsche Passphrase für Repository {} ({} Schlüssel probiert)"},
      {"wrong passphrase for repository {} (tried {} keys)",
       "falsche Passphrase für Repository {} ({} Schlüssel probiert)"},
      {"database '{}' at {}", "Datenbank '{}' auf {}"},
      {"{} failed ({})", "{} fehlgeschlagen ({})"},
      {"{} failed ({}): {}", "{} fehlgeschlagen ({}): {}"},
      {"{} files", "{} Dateien"},
      {"{} blobs", "{} Blobs"},
      {"repository {} is encrypted: set backup.password_env or backup.password_file",
       "Repository {} ist verschlüsselt: backup.password_env oder backup.password_file setzen"},
      {"{} {}", "{} {}"},
      {"could not record the outcome of the switch to {}: {}",
       "konnte das Ergebnis des Wechsels zu {} nicht festhalten: {}"},
      {"timed out", "Zeitüberschreitung"},
      {"Adopting the live application as {}...", "Übernehme die laufende Anwendung als {}..."},
      {"No rollback.health check is configured: the switch is not verified",
       "Kein rollback.health-Check konfiguriert: der Wechsel wird nicht geprüft"},
      {"The plain files were moved to {}", "Die normalen Dateien wurden nach {} verschoben"},
      {"adopt: {}; the files were stored as {}, {} is still the plain directory and the service "
       "was not stopped",
       "Übernahme: {}; die Dateien wurden als {} gespeichert, {} ist weiterhin das normale "
       "Verzeichnis und der Dienst wurde nicht gestoppt"},
      {"adopted {} ({} {} {}; the plain files are in {}), but {}: the service runs {} but is not "
       "healthy; nothing was undone",
       "{} übernommen ({} {} {}; die normalen Dateien liegen in {}), aber {}: der Dienst läuft "
       "mit {}, ist aber nicht gesund; nichts wurde rückgängig gemacht"},
      {"adopted {} ({} {} {}; the plain files are in {}), but {}: the service is not running; "
       "start it once the cause is fixed (rollback.start)",
       "{} übernommen ({} {} {}; die normalen Dateien liegen in {}), aber {}: der Dienst läuft "
       "nicht; ihn starten, sobald die Ursache behoben ist (rollback.start)"},
      {"current {} {}", "current {} {}"},
      {"release {}: {} file(s) were missing (first: {}; deleted?): put back from identical files "
       "of other releases",
       "Release {}: {} Datei(en) fehlten (erste: {}; gelöscht?): aus identischen Dateien anderer "
       "Releases wiederhergestellt"},
      {"release {}: {} file(s) are missing (first: {}; deleted?); the switch would put them back "
       "from identical files of other releases",
       "Release {}: {} Datei(en) fehlen (erste: {}; gelöscht?); der Wechsel würde sie aus "
       "identischen Dateien anderer Releases wiederherstellen"},
      {"release directory {} is gone", "das Release-Verzeichnis {} ist verschwunden"},
      {"{} file(s) of release {} are missing and no other release holds them (first: {})",
       "{} Datei(en) des Release {} fehlen, und kein anderes Release enthält sie (erste: {})"},
      {"rollback to {} refused: {}; nothing was changed, the service was not stopped (still {}): "
       "a switch to a partial release would start it on missing files; put the release back from "
       "a backup of {}, or deploy a fixed version",
       "Rollback zu {} verweigert: {}; nichts wurde geändert, der Dienst wurde nicht gestoppt "
       "(weiterhin {}): ein Wechsel zu einem unvollständigen Release würde ihn mit fehlenden "
       "Dateien starten; das Release aus einem Backup von {} zurückholen oder eine korrigierte "
       "Version ausrollen"},
      {" (still {})", " (weiterhin {})"},
      {"transaction not opened: the live version {}: {}; nothing was changed: put the release "
       "back from a backup of {}, or switch to a complete version first",
       "Transaktion nicht geöffnet: die laufende Version {}: {}; nichts wurde geändert: das "
       "Release aus einem Backup von {} zurückholen oder zuerst zu einer vollständigen Version "
       "wechseln"},
      {"switch to {} refused: {}; nothing was changed{}: make the version again from its build "
       "('velin rollback create-version {} --replace') or put the release back from a backup of "
       "{}",
       "Wechsel zu {} verweigert: {}; nichts wurde geändert{}: die Version aus ihrem Build neu "
       "anlegen ('velin rollback create-version {} --replace') oder das Release aus einem Backup "
       "von {} zurückholen"},
      {"key '{}' in [rollback]: {} must be a path inside app.root (relative, without '..')",
       "Schlüssel '{}' in [rollback]: {} muss ein Pfad innerhalb von app.root sein (relativ, "
       "ohne '..')"},
      {"{} does not exist but {} does (an adopt was interrupted after moving the files aside?): "
       "move them back ('mv {} {}') and run adopt again; nothing was changed",
       "{} existiert nicht, aber {} (wurde eine Übernahme nach dem Beiseitelegen der Dateien "
       "unterbrochen?): sie zurückverschieben ('mv {} {}') und adopt erneut ausführen; nichts "
       "wurde geändert"},
      {"version '{}' exists already (an earlier adopt that was interrupted stores it first): "
       "'velin rollback adopt {} --replace' stores the live files as {} again, or adopt under "
       "another name; nothing was changed",
       "Version '{}' existiert bereits (eine frühere, unterbrochene Übernahme speichert sie "
       "zuerst): 'velin rollback adopt {} --replace' speichert die laufenden Dateien erneut als "
       "{}, oder unter einem anderen Namen übernehmen; nichts wurde geändert"},
      {"the adopt as {} finishes first, then velin stops (kill -9 stops it at once)",
       "die Übernahme als {} wird zuerst abgeschlossen, dann beendet sich velin (kill -9 beendet "
       "es sofort)"},
      {"going back to an older version while a [database] is configured, but rollback.migrate_down "
       "is not set: the schema is not migrated down",
       "Rückkehr zu einer älteren Version bei konfigurierter [database], aber "
       "rollback.migrate_down ist nicht gesetzt: das Schema wird nicht zurückmigriert"},
      {"schema level {} is below the live level {} and no rollback.migrate_down is configured; the "
       "database stays as it is",
       "Schemastand {} liegt unter dem aktuellen Stand {}, und kein rollback.migrate_down ist "
       "konfiguriert; die Datenbank bleibt, wie sie ist"},
      {"switch to {} failed: {}", "Wechsel zu {} fehlgeschlagen: {}"},
      {"switch to {}: {}", "Wechsel zu {}: {}"},
      {"switch to {}: {}; {}", "Wechsel zu {}: {}; {}"},
      {"The live files differ from version {}: taking snapshot {}",
       "Die Live-Dateien weichen von Version {} ab: erstelle Snapshot {}"},
      {"cannot open lock file {}: {} (it belongs to user {}, velin runs as user {}: run velin "
       "as user {})",
       "Sperrdatei {} kann nicht geöffnet werden: {} (sie gehört Benutzer {}, velin läuft als "
       "Benutzer {}: führe velin als Benutzer {} aus)"},
      {"an old saved live configuration could not be removed: {}; it holds its space until "
       "removed by a user who may ('rm -rf {}')",
       "eine alte gespeicherte Live-Konfiguration konnte nicht entfernt werden: {}; sie belegt "
       "ihren Platz, bis ein Benutzer sie entfernt, der das darf ('rm -rf {}')"},
      {"velin (user {}) cannot read the stored configuration of version {}: taking snapshot {}",
       "velin (Benutzer {}) kann die gespeicherte Konfiguration von Version {} nicht lesen: "
       "erstelle Snapshot {}"},
      {"version {} is no longer registered, but its files could not be removed: {}{}; they "
       "hold their space until removed by a user who may ('rm -rf{}'); velin tries again at "
       "each create-version",
       "Version {} ist nicht mehr registriert, aber ihre Dateien konnten nicht entfernt werden: "
       "{}{}; sie belegen ihren Platz, bis ein Benutzer sie entfernt, der das darf ('rm -rf{}'); "
       "velin versucht es bei jedem create-version erneut"},
      {" ({} belongs to user {}, velin runs as user {})",
       " ({} gehört Benutzer {}, velin läuft als Benutzer {})"},
      {"release {}: velin (user {}) cannot read {} file(s) of it (first: {}: {}); they were "
       "not checked: switching to it as it is",
       "Release {}: velin (Benutzer {}) kann {} Datei(en) davon nicht lesen (erste: {}: {}); sie "
       "wurden nicht geprüft: es wird so umgeschaltet, wie es ist"},
      {"release {}: velin (user {}) cannot read {} file(s) of it (first: {}: {}); the switch "
       "would not check them and switch to it as it is",
       "Release {}: velin (Benutzer {}) kann {} Datei(en) davon nicht lesen (erste: {}: {}); die "
       "Umschaltung würde sie nicht prüfen und so umschalten, wie es ist"},
      {"velin (user {}) cannot read its stored configuration (first: {}: {}), which the switch "
       "puts back",
       "velin (Benutzer {}) kann seine gespeicherte Konfiguration nicht lesen (erste: {}: {}), "
       "die die Umschaltung zurücklegt"},
      {"rollback to {} refused: {}; nothing was changed, the service was not stopped (still {}): "
       "run the rollback as the user who made {} (root?), or give velin's user read access to {}",
       "Rollback auf {} verweigert: {}; nichts wurde geändert, der Dienst wurde nicht gestoppt "
       "(weiterhin {}): führe den Rollback als der Benutzer aus, der {} erstellt hat (root?), "
       "oder gib velins Benutzer Lesezugriff auf {}"},
      {"switch to {} refused: {}; nothing was changed (still {}): switch as the user who made {} "
       "(root?), or give velin's user read access to {}",
       "Umschaltung auf {} verweigert: {}; nichts wurde geändert (weiterhin {}): schalte als der "
       "Benutzer um, der {} erstellt hat (root?), oder gib velins Benutzer Lesezugriff auf {}"},
      {"pruning old transaction bases failed: {}",
       "Entfernen alter Transaktionsbasen fehlgeschlagen: {}"},
      {"transaction {} (by {}@{}, open until {})", "Transaktion {} (von {}@{}, offen bis {})"},
      {"transaction {} (reason '{}', by {}@{}, open until {})",
       "Transaktion {} (Grund '{}', von {}@{}, offen bis {})"},
      {"transaction {} had expired: {} (to {})", "Transaktion {} war abgelaufen: {} (zu {})"},
      {"transaction {}: {} (to {})", "Transaktion {}: {} (zu {})"},
      {"Files: {} ({} hard-linked to earlier releases, {} copied, {} bytes)",
       "Dateien: {} ({} mit früheren Releases hart verlinkt, {} kopiert, {} Bytes)"},
      {"{}: {}: {}", "{}: {}: {}"},
      {"switched back to {} (healthy)", "zurückgewechselt zu {} (gesund)"},
      {"{}; rollback.stop had failed on the way: {}",
       "{}; rollback.stop war dabei fehlgeschlagen: {}"},
      {"{}; switching back to {} all the same (the version being left may have ended already)",
       "{}; wechsle trotzdem zurück zu {} (die verlassene Version ist vielleicht schon beendet)"},
      {"{}; rolling back to {} all the same (the version being left may have ended already)",
       "{}; setze trotzdem auf {} zurück (die verlassene Version ist vielleicht schon beendet)"},
      {"switching back to {} failed too: {}; {}",
       "Zurückwechseln zu {} ist ebenfalls fehlgeschlagen: {}; {}"},
      {"the service runs {} but is not healthy", "der Dienst läuft mit {}, ist aber nicht gesund"},
      {"the service is not running", "der Dienst läuft nicht"},
      {"the service is not running, unless {} still runs",
       "der Dienst läuft nicht, außer {} läuft noch"},
      {"the service was not stopped (still {})", "der Dienst wurde nicht gestoppt (weiterhin {})"},
      {"could not record {} as current: {}; switching back all the same",
       "konnte {} nicht als aktuell eintragen: {}; wechsle trotzdem zurück"},
      {"could not record the switch back in {}: {}; switching back all the same",
       "konnte das Zurückwechseln nicht in {} festhalten: {}; wechsle trotzdem zurück"},
      {"the switch from {} to {} is not in the history: {}",
       "der Wechsel von {} zu {} steht nicht im Verlauf: {}"},
      {"{}; the configuration from before was put back",
       "{}; die vorherige Konfiguration wurde wiederhergestellt"},
      {"{}; putting the configuration from before back failed: {}",
       "{}; die vorherige Konfiguration wiederherzustellen schlug fehl: {}"},
      {"nothing to switch back to", "nichts, wohin zurückgewechselt werden kann"},
      // The pieces of a history outcome (rollback::OutcomeShown) and velin's own reasons.
      {"health check failed", "Health-Check fehlgeschlagen"},
      {"nothing was changed", "nichts wurde geändert"},
      {"the configuration from before was put back",
       "die vorherige Konfiguration wurde wiederhergestellt"},
      {"switching back to {} failed too: {}",
       "Zurückwechseln zu {} ist ebenfalls fehlgeschlagen: {}"},
      {"rollback.stop had failed on the way: {}", "rollback.stop war dabei fehlgeschlagen: {}"},
      {"putting the configuration from before back failed: {}",
       "die vorherige Konfiguration wiederherzustellen schlug fehl: {}"},
      {"rollback failed: {}", "Rücksetzung fehlgeschlagen: {}"},
      {"transaction deadline passed", "Frist der Transaktion abgelaufen"},
      {"transaction rolled back", "Transaktion zurückgesetzt"},
      {"switch", "Wechsel"},
      {"rollback", "Rücksetzung"},
      {"adopt", "Übernahme"},
      {"prune", "Entfernen"},
      {"transaction", "Transaktion"},
      {"switched", "gewechselt"},
      {"pruned", "entfernt"},
      {"adopted", "übernommen"},
      {"committed", "bestätigt"},
      {"rolled back by hand", "von Hand zurückgesetzt"},
      {"rolled back by timeout", "nach Fristablauf zurückgesetzt"},
      {"rollback failed", "Rücksetzung fehlgeschlagen"},
      {"open", "offen"},
      {"rolling-back", "wird zurückgesetzt"},
      {"version", "Version"},
      {"snapshot", "Snapshot"},
      {"blob", "Blob"},
      {"index", "Index"},
      {"transaction {} is open; its watchdog was re-armed",
       "Transaktion {} ist offen; ihr Watchdog wurde neu gestartet"},
      {"transaction {} is open until {}", "Transaktion {} ist offen bis {}"},
      // The watchdog must run before a transaction counts as open (docs/rollback.md).
      {"the config {} is not a regular file (a pipe such as --config <(…) is read once): the "
       "watchdog, which rolls back at the deadline, could not read it; give the path of a file "
       "with --config",
       "die Konfiguration {} ist keine reguläre Datei (eine Pipe wie --config <(…) wird nur "
       "einmal gelesen): der Watchdog, der zur Frist zurückrollt, könnte sie nicht lesen; mit "
       "--config den Pfad einer Datei angeben"},
      {"the watchdog, which rolls back at the deadline, did not start: {}",
       "der Watchdog, der zur Frist zurückrollt, ist nicht gestartet: {}"},
      {"it did not report within {} s", "er hat sich nicht innerhalb von {} s gemeldet"},
      {"it ended at once with exit code {}", "er endete sofort mit Exit-Code {}"},
      {"it ended at once", "er endete sofort"},
      {"cannot create a pipe for the watchdog", "kann keine Pipe für den Watchdog anlegen"},
      {"transaction {} not opened", "Transaktion {} nicht geöffnet"},
      {"transaction {} is open without a watchdog (its file could not be removed: {}); end it "
       "with 'velin rollback rollback'",
       "Transaktion {} ist ohne Watchdog offen (ihre Datei ließ sich nicht entfernen: {}); mit "
       "'velin rollback rollback' beenden"},
      {"transaction {} is open and its watchdog runs, but its pid could not be recorded: {}",
       "Transaktion {} ist offen und ihr Watchdog läuft, aber seine PID ließ sich nicht "
       "festhalten: {}"},
      {"transaction {} is committed (recorded in {}), but ending it failed; the next velin "
       "command retries",
       "Transaktion {} ist bestätigt (festgehalten in {}), aber ihr Abschluss schlug fehl; der "
       "nächste velin-Befehl versucht es erneut"},
      {"{}: line left out (velin reads the rest of the history)",
       "{}: Zeile ausgelassen (velin liest den Rest des Verlaufs)"},
      {"{}: is a symlink to a missing file (velin writes this file itself, never a link)",
       "{}: ist ein Symlink auf eine fehlende Datei (velin schreibt diese Datei selbst, nie als "
       "Link)"},
      {"transaction {}: {}", "Transaktion {}: {}"},
      {"finished the interrupted switch {} {} {}", "unterbrochenen Wechsel {} {} {} abgeschlossen"},
      {" (and {} more)", " (und {} weitere)"},
      {"table '{}': {} rows recorded, missing after the restore",
       "Tabelle '{}': {} Zeilen gesichert, fehlt nach der Wiederherstellung"},
      {"table '{}': not recorded, {} rows after the restore",
       "Tabelle '{}': nicht gesichert, {} Zeilen nach der Wiederherstellung"},
      {"table '{}': {} rows recorded, {} restored",
       "Tabelle '{}': {} Zeilen gesichert, {} wiederhergestellt"},
      {"{}; affects {} and {} more", "{}; betrifft {} und {} weitere"},
      {"{}; affects {}", "{}; betrifft {}"},
      {"is missing", "fehlt"},
      {"pack {} ({}) does not match its name: it was modified or truncated",
       "Pack {} ({}) passt nicht zu seinem Namen: es wurde verändert oder gekürzt"},
      {"blob {} in pack {} is beyond the pack's end (truncated pack)",
       "Blob {} in Pack {} liegt hinter dem Ende des Packs (gekürztes Pack)"},
      {"hash mismatch", "Hash stimmt nicht"},
      {"index {}: {}", "Index {}: {}"},
      {"full", "voll"},
      {"incremental", "inkrementell"},
      {"cannot initialise libcurl", "kann libcurl nicht initialisieren"},
      {"HTTP status {}", "HTTP-Status {}"},
      {"{} not found in PATH (install {})", "{} nicht gefunden in PATH ({} installieren)"},
      {"{} not found in {} or PATH (install {})",
       "{} nicht gefunden in {} oder PATH ({} installieren)"},
      {"wrong length", "falsche Länge"},
      {"'storage' must be a table", "'storage' muss eine Tabelle sein"},
      {"unknown section [storage.{}]{}", "unbekannter Abschnitt [storage.{}]{}"},
      {"key '{}' must be inside a section such as [backup]",
       "Schlüssel '{}' muss in einem Abschnitt wie [backup] stehen"},
      {"unknown section [{}]{}", "unbekannter Abschnitt [{}]{}"},
      {"'{}' must be a table [{}]", "'{}' muss eine Tabelle [{}] sein"},
      {"unknown key '{}' in [{}]{}", "unbekannter Schlüssel '{}' in [{}]{}"},
      {"{} must be {}, not {}", "{} muss {} sein, nicht {}"},
      {"{} must be an array of strings, but holds {}",
       "{} muss ein Array von Zeichenketten sein, enthält aber {}"},
      {"key '{}' in [{}]: {} starts with '~', but HOME is not set and the user has no home "
       "directory in the password database",
       "Schlüssel '{}' in [{}]: {} beginnt mit '~', aber HOME ist nicht gesetzt und der Benutzer "
       "hat kein Home-Verzeichnis in der Passwortdatenbank"},
      {"{} must be one of {}, not {}", "{} muss eines von {} sein, nicht {}"},
      {"{}: {} is not a duration (write e.g. \"30s\", \"10m\", \"2h\", \"1d\"; at most \"36500d\")",
       "{}: {} ist keine Dauer (z. B. \"30s\", \"10m\", \"2h\", \"1d\" schreiben; höchstens "
       "\"36500d\")"},
      {"{} must be positive, not {} (e.g. \"30s\")",
       "{} muss positiv sein, nicht {} (z. B. \"30s\")"},
      {"{} must be at least {}, not {}", "{} muss mindestens {} sein, nicht {}"},
      {"{} must be at most {}, not {}", "{} darf höchstens {} sein, nicht {}"},
      {"{} must be an integer, not {}", "{} muss eine ganze Zahl sein, nicht {}"},
      {"{} must be true, false, yes, no, 1 or 0, not {}",
       "{} muss true, false, yes, no, 1 oder 0 sein, nicht {}"},
      {"{} must be a number, not {}", "{} muss eine Zahl sein, nicht {}"},
      {"key 'compression_level' in [backup] must be 1..9 for gzip, not {}",
       "Schlüssel 'compression_level' in [backup] muss für gzip 1..9 sein, nicht {}"},
      {"key 'repack_threshold' in [backup] must be between 0 and 1",
       "Schlüssel 'repack_threshold' in [backup] muss zwischen 0 und 1 liegen"},
      {"key 'include' in [backup] holds an empty path",
       "Schlüssel 'include' in [backup] enthält einen leeren Pfad"},
      {"key 'include' in [backup]: {} must be a path inside app.root (relative, without '..')",
       "Schlüssel 'include' in [backup]: {} muss ein Pfad in app.root sein (relativ, ohne '..')"},
      {"key 'include' in [backup] names \"db\" but there is no [database] section",
       "Schlüssel 'include' in [backup] nennt \"db\", aber es gibt keinen Abschnitt [database]"},
      {"key '{}' in [{}] must start with http:// or https://",
       "Schlüssel '{}' in [{}] muss mit http:// oder https:// beginnen"},
      {"key '{}' in [{}] holds a space or control character (write a space as %20)",
       "Schlüssel '{}' in [{}] enthält ein Leer- oder Steuerzeichen (ein Leerzeichen als %20 "
       "schreiben)"},
      {"key '{}' in [{}] must name a host after the scheme (http://HOST/…)",
       "Schlüssel '{}' in [{}] muss nach dem Schema einen Host nennen (http://HOST/…)"},
      {"key '{}' in [{}] has a port that is not a number from 1 to 65535",
       "Schlüssel '{}' in [{}] hat einen Port, der keine Zahl von 1 bis 65535 ist"},
      {"key '{}' in [{}] must not be empty (leave the key out for its default, {})",
       "Schlüssel '{}' in [{}] darf nicht leer sein (ohne den Schlüssel gilt sein Standard, {})"},
      {"key 'events' in [notify]: unknown event {} (known: {})",
       "Schlüssel 'events' in [notify]: unbekanntes Ereignis {} (bekannt: {})"},
      {"[database] needs key 'driver' (\"postgresql\", \"mysql\" or \"sqlite\")",
       "[database] braucht den Schlüssel 'driver' (\"postgresql\", \"mysql\" oder \"sqlite\")"},
      {"[database] with driver \"sqlite\" needs key 'path'",
       "[database] mit Treiber \"sqlite\" braucht den Schlüssel 'path'"},
      {"[database] with driver \"{}\" needs key 'name'",
       "[database] mit Treiber \"{}\" braucht den Schlüssel 'name'"},
      {"key '{}' in [app] must be 1 to 255 characters without control characters",
       "Schlüssel '{}' in [app] muss 1 bis 255 Zeichen ohne Steuerzeichen haben"},
      {"key '{}' in [app] is not UTF-8 text", "Schlüssel '{}' in [app] ist kein UTF-8-Text"},
      {"key 'include' in [backup]: {} is not UTF-8 text",
       "Schlüssel 'include' in [backup]: {} ist kein UTF-8-Text"},
      {"key 'config' in [fleet] must be an absolute path on the hosts, not {}",
       "Schlüssel 'config' in [fleet] muss ein absoluter Pfad auf den Hosts sein, nicht {}"},
      {"key 'hosts' in [fleet]: {}", "Schlüssel 'hosts' in [fleet]: {}"},
      {"a string", "eine Zeichenkette"},
      {"an integer", "eine ganze Zahl"},
      {"a number", "eine Zahl"},
      {"a boolean", "ein Wahrheitswert"},
      {"an array", "ein Array"},
      {"a table", "eine Tabelle"},
      {"a date/time", "ein Datum/eine Uhrzeit"},
      {"a boolean (true or false)", "ein Wahrheitswert (true oder false)"},
      {"an array of strings", "ein Array von Zeichenketten"},
      {"a duration string like \"30s\", \"10m\", \"2h\"",
       "eine Dauer wie \"30s\", \"10m\", \"2h\""},
      {" (did you mean '{}'?)", " (meinten Sie '{}'?)"},
      {"key '{}' in [{}]", "Schlüssel '{}' in [{}]"},
      {"key '{}' in [{}]: ", "Schlüssel '{}' in [{}]: "},
      {"the configuration", "die Konfiguration"},
      {"an unreadable lock object{}", "ein unlesbares Sperrobjekt{}"},
      {"host {} pid {}, {} lock, {}s ago{}", "Host {} PID {}, {} Sperre, vor {}s{}"},
      {"host {} pid {}, {} lock, of unknown age{}", "Host {} PID {}, {} Sperre, Alter unbekannt{}"},
      {"shared", "geteilte"},
      {"exclusive", "exklusive"},
      {"{} (no backup made yet? the first 'velin backup create' makes it; else check "
       "backup.destination or --repo, and that its disk is mounted)",
       "{} (noch kein Backup gemacht? Das erste 'velin backup create' legt es an; sonst "
       "backup.destination oder --repo prüfen, und ob sein Datenträger eingehängt ist)"},
      {"no repository at {}: directory does not exist",
       "kein Repository in {}: Verzeichnis existiert nicht"},
      {"No such file or directory", "Datei oder Verzeichnis nicht gefunden"},
      {"Permission denied", "Keine Berechtigung"},
      {"File exists", "Datei existiert bereits"},
      {"Not a directory", "Ist kein Verzeichnis"},
      {"Is a directory", "Ist ein Verzeichnis"},
      {"Directory not empty", "Verzeichnis nicht leer"},
      {"No space left on device", "Auf dem Gerät ist kein Speicherplatz mehr verfügbar"},
      {"Input/output error", "Eingabe-/Ausgabefehler"},
      {"Read-only file system", "Dateisystem ist nur lesbar"},
      {"Too many levels of symbolic links", "Zu viele Ebenen aus symbolischen Links"},
      {"Operation not permitted", "Die Operation ist nicht erlaubt"},
      {"Function not implemented", "Die Funktion ist nicht implementiert"},
      {"Disk quota exceeded", "Der zugewiesene Plattenplatz (Quota) ist überschritten"},
      {"Invalid argument", "Das Argument ist ungültig"},
      {"Resource temporarily unavailable", "Die Ressource ist zur Zeit nicht verfügbar"},
      {"Connection refused", "Verbindungsaufbau abgelehnt"},
      {"Broken pipe", "Datenübergabe unterbrochen (broken pipe)"},
      {"File name too long", "Dateiname zu lang"},
      {"File too large", "Die Datei ist zu groß"},
      {"Too many open files", "Zu viele offene Dateien"},
      {"Invalid cross-device link", "Ungültiger Link über Gerätegrenzen hinweg"},
      {"Text file busy", "Das Programm kann nicht ausgeführt oder verändert werden (busy)"},
      {"Device or resource busy", "Das Gerät oder die Ressource ist belegt"},
      {"No such process", "Kein passender Prozess gefunden"},
      {"Connection reset by peer", "Die Verbindung wurde vom Kommunikationspartner zurückgesetzt"},
      {"Connection timed out", "Die Wartezeit für die Verbindung ist abgelaufen"},
      {"Bad file descriptor", "Ungültiger Dateideskriptor"},
      {"Cannot allocate memory", "Nicht genügend Hauptspeicher verfügbar"},
      // Fidelity (issue 21): extended attributes, ACLs, sparse files, fifos, device nodes.
      {"the backup was written with format version {} trees and {} has format version {}: run "
       "`velin backup upgrade` on it first",
       "das Backup wurde mit Verzeichnisbäumen der Formatversion {} geschrieben und {} hat "
       "Formatversion {}: zuerst `velin backup upgrade` darauf ausführen"},
      {"{} files and directories have extended attributes (ACLs among them) that repository "
       "format version {} cannot store; `velin backup upgrade` raises it to {}",
       "{} Dateien und Verzeichnisse haben erweiterte Attribute (darunter ACLs), die ein "
       "Repository der Formatversion {} nicht speichern kann; `velin backup upgrade` hebt es auf "
       "{} an"},
      {"skipped {} (a socket: it belongs to the process listening on it)",
       "{} übersprungen (ein Socket: er gehört zu dem Prozess, der an ihm lauscht)"},
      {"skipped {} (a fifo or device node: repository format version {} cannot store it; "
       "`velin backup upgrade` raises it to {})",
       "{} übersprungen (ein FIFO oder eine Gerätedatei: ein Repository der Formatversion {} kann "
       "sie nicht speichern; `velin backup upgrade` hebt es auf {} an)"},
      {"extended attribute {} is larger than Linux allows",
       "das erweiterte Attribut {} ist größer, als Linux erlaubt"},
      {"{} on {}: {}", "{} an {}: {}"},
      {"skipped the device node {}: creating device nodes needs root",
       "Gerätedatei {} übersprungen: Gerätedateien anlegen kann nur root"},
      {"a file is restored without its setuid or setgid bit ({}): without root a restore cannot "
       "give it the backup's owner or group, and the bit would let it run as you; restore as "
       "root to keep it",
       "eine Datei ist ohne ihr setuid- oder setgid-Bit wiederhergestellt ({}): ohne root kann "
       "eine Wiederherstellung ihr nicht den Besitzer oder die Gruppe der Sicherung geben, und das "
       "Bit ließe sie als Sie laufen; stellen Sie als root wieder her, um es zu behalten"},
      {"{} files are restored without their setuid or setgid bit (e.g. {}): without root a "
       "restore cannot give them the backup's owner or group, and the bit would let them run as "
       "you; restore as root to keep it",
       "{} Dateien sind ohne ihr setuid- oder setgid-Bit wiederhergestellt (z. B. {}): ohne root "
       "kann eine Wiederherstellung ihnen nicht den Besitzer oder die Gruppe der Sicherung geben, "
       "und das Bit ließe sie als Sie laufen; stellen Sie als root wieder her, um es zu behalten"},
      {"the target refused {} extended attributes (e.g. {}); the files are restored without them",
       "das Ziel hat {} erweiterte Attribute abgelehnt (z. B. {}); die Dateien sind ohne sie "
       "wiederhergestellt"},
      {"the target refused {} hardlinks (e.g. {}); their files are restored as separate copies",
       "das Ziel hat {} harte Links abgelehnt (z. B. {}); ihre Dateien sind als eigene Kopien "
       "wiederhergestellt"},
      {"{} to {}: {}", "{} auf {}: {}"},
      {"the target refused {} (e.g. {}); everything else is restored",
       "das Ziel hat {} abgelehnt (z. B. {}); alles andere ist wiederhergestellt"},
      {"{} symlinks", "{} symbolische Links"},
      {"{} fifos", "{} FIFOs"},
      {" and ", " und "},
      {"{} and {} are hard links to one file, in two include paths: they are backed up as two "
       "files and restored as two",
       "{} und {} sind harte Links auf eine Datei, in zwei Include-Pfaden: sie werden als zwei "
       "Dateien gesichert und als zwei wiederhergestellt"},
      {"the target refused a hardlink ({}); its file is restored as a separate copy",
       "das Ziel hat einen harten Link abgelehnt ({}); seine Datei ist als eigene Kopie "
       "wiederhergestellt"},
      {"the target refused {} ({}); everything else is restored",
       "das Ziel hat {} abgelehnt ({}); alles andere ist wiederhergestellt"},
      {"1 symlink", "1 symbolischen Link"},
      {"1 fifo", "1 FIFO"},
      {"1 name", "1 Namen"},
      {"{} names", "{} Namen"},
      {"1 file too large for it", "1 zu große Datei"},
      {"{} files too large for it", "{} zu große Dateien"},
      {"cannot list the extended attributes of {}",
       "kann die erweiterten Attribute von {} nicht auflisten"},
      {"cannot read the extended attribute {} of {}",
       "kann das erweiterte Attribut {} von {} nicht lesen"},
      {"cannot set the extended attribute {} of {}",
       "kann das erweiterte Attribut {} von {} nicht setzen"},
      {"cannot remove the extended attribute {} of {}",
       "kann das erweiterte Attribut {} von {} nicht entfernen"},
      {"cannot set the size of {}", "kann die Größe von {} nicht setzen"},
      {"Operation not supported", "Die Operation wird nicht unterstützt"},
      {"Argument list too long", "Die Argumentliste ist zu lang"},
      {"Numerical result out of range",
       "Das numerische Ergebnis ist außerhalb des gültigen Bereichs"},
      // Output fixes (issue 21, item 11).
      {"no backups to verify in {}", "keine Backups zu prüfen in {}"},
      {"{}: {} names the environment variable {}, which is not set here; cron and systemd "
       "pass none of your shell's variables: for scheduled runs set it in the unit "
       "(EnvironmentFile=) or put the secret in a file only velin's user may read (chmod "
       "600) and name it in {}",
       "{}: {} nennt die Umgebungsvariable {}, die hier nicht gesetzt ist; cron und systemd "
       "geben keine Variablen der Shell weiter: für geplante Läufe sie in der Unit setzen "
       "(EnvironmentFile=) oder das Geheimnis in eine Datei legen, die nur velins Benutzer lesen "
       "darf (chmod 600), und sie in {} nennen"},
      {"{}: backup.include '{}' does not exist ({}); every backup fails until it does",
       "{}: backup.include '{}' existiert nicht ({}); jedes Backup schlägt fehl, bis es "
       "existiert"},
      {"starting…", "startet…"},
      {"differs", "abweichend"},
      {"Restore backup {} in place into {}, overwriting files there, and replace {} with the "
       "one in the backup?",
       "Backup {} direkt nach {} wiederherstellen, die Dateien dort überschreiben und {} durch "
       "die aus dem Backup ersetzen?"},
      {"could not remove abandoned temp files in {}: {}",
       "konnte verwaiste temporäre Dateien in {} nicht entfernen: {}"},
      {"could not remove {}, left by a killed restore test: {}",
       "konnte {} nicht entfernen, das ein abgebrochener Wiederherstellungstest hinterließ: {}"},
      {"Removed {}, left by a killed restore test",
       "{} entfernt, das ein abgebrochener Wiederherstellungstest hinterließ"},
      {"could not drop {}, left by a killed restore test: {}",
       "konnte {} nicht löschen, das ein abgebrochener Wiederherstellungstest hinterließ: {}"},
      {"Dropped {}, left by a killed restore test",
       "{} gelöscht, das ein abgebrochener Wiederherstellungstest hinterließ"},
      {"restore cancelled; nothing was changed",
       "Wiederherstellung abgebrochen; nichts wurde geändert"},
      {"unlock cancelled; no lock removed", "Entsperren abgebrochen; keine Sperre entfernt"},
      {"rollback cancelled; nothing was changed", "Rollback abgebrochen; nichts wurde geändert"},
      {"to-version cancelled; nothing was changed",
       "to-version abgebrochen; nichts wurde geändert"},
      // Files that change or go while a backup reads them.
      {"{} files changed while they were read, and again when read once more ({}): the backup "
       "holds each as the second read found it, which may mix old and new data; the next "
       "backup reads them again",
       "{} Dateien änderten sich, während sie gelesen wurden, und erneut beim zweiten Lesen ({}): "
       "das Backup enthält jede so, wie das zweite Lesen sie fand, womöglich gemischt aus alten "
       "und neuen Daten; das nächste Backup liest sie erneut"},
      {"{} files and directories have an mtime outside what a backup can record, 1677-09-21 to "
       "2262-04-11 ({}): each is stored as the nearest of these times, which a restore gives it",
       "{} Dateien und Verzeichnisse haben eine Änderungszeit außerhalb dessen, was ein Backup "
       "festhalten kann, 1677-09-21 bis 2262-04-11 ({}): jede wird als die nächstgelegene dieser "
       "Zeiten gespeichert, und eine Wiederherstellung setzt diese"},
      {"backup: database is locked: {} held a lock on it for the 60 s velin waited (a write "
       "transaction kept open, or locking_mode=EXCLUSIVE); nothing was backed up: run the "
       "backup again once it is released",
       "Sicherung: Datenbank ist gesperrt: eine Sperre von {} bestand die ganzen 60 s, die velin "
       "wartete (eine offen gehaltene Schreibtransaktion oder locking_mode=EXCLUSIVE); nichts "
       "wurde gesichert: das Backup erneut starten, sobald sie freigegeben ist"},
      {"backup: no room for the copy of the database in {} ({}): the copy needs as much room "
       "as the database; free some there, or set TMPDIR to a directory with room",
       "Sicherung: kein Platz für die Kopie der Datenbank in {} ({}): die Kopie braucht so viel "
       "Platz wie die Datenbank; dort Platz schaffen oder TMPDIR auf ein Verzeichnis mit Platz "
       "setzen"},
      {"backup: the file is not a SQLite database (it does not begin with SQLite's header): "
       "another kind of file, or a database encrypted by SQLCipher or SEE, which velin cannot "
       "read; check database.path",
       "Sicherung: die Datei ist keine SQLite-Datenbank (sie beginnt nicht mit dem Kopf von "
       "SQLite): eine andere Art Datei oder eine mit SQLCipher oder SEE verschlüsselte "
       "Datenbank, die velin nicht lesen kann; database.path prüfen"},
      {"the database's own files are left out of the files ({}): the backup holds the database "
       "as 'db', one consistent copy (a copy of the live files can mix pages written at "
       "different moments)",
       "die Dateien der Datenbank selbst werden bei den Dateien ausgelassen ({}): das Backup "
       "enthält die Datenbank als 'db', eine in sich stimmige Kopie (eine Kopie der laufenden "
       "Dateien kann Seiten aus verschiedenen Zeitpunkten mischen)"},
      {"the database's own files ({}) are restored as named, from the copy the backup read "
       "while the application wrote: it may be torn; the consistent copy is the backup's dump "
       "(--only db)",
       "die Dateien der Datenbank selbst ({}) werden wie angegeben wiederhergestellt, aus der "
       "Kopie, die das Backup las, während die Anwendung schrieb: sie kann zerrissen sein; die in "
       "sich stimmige Kopie ist der Dump des Backups (--only db)"},
      {"the database's own files ({}) are restored from the copy the backup read while the "
       "application wrote, and the backup holds no usable dump of the database: the copy may be "
       "torn (check it with sqlite3 FILE 'PRAGMA integrity_check')",
       "die Dateien der Datenbank selbst ({}) werden aus der Kopie wiederhergestellt, die das "
       "Backup las, während die Anwendung schrieb, und das Backup enthält keinen brauchbaren Dump "
       "der Datenbank: die Kopie kann zerrissen sein (mit sqlite3 DATEI 'PRAGMA integrity_check' "
       "prüfen)"},
      {"the backup's copy of the database's own files ({}) is left out: the database is restored "
       "from its dump, one consistent copy",
       "die Kopie der Dateien der Datenbank selbst im Backup ({}) wird ausgelassen: die Datenbank "
       "wird aus ihrem Dump wiederhergestellt, einer in sich stimmigen Kopie"},
      {"the backup's copy of the database's own files ({}) is left out: read while the "
       "application wrote, it may be torn; the backup holds the database as 'db', one consistent "
       "copy: restore it with --only db{}",
       "die Kopie der Dateien der Datenbank selbst im Backup ({}) wird ausgelassen: gelesen, "
       "während die Anwendung schrieb, kann sie zerrissen sein; das Backup enthält die Datenbank "
       "als 'db', eine in sich stimmige Kopie: mit --only db{} wiederherstellen"},
      {"the backup's database is not restored under --target (only files are): restore it with "
       "--only db --database {}",
       "die Datenbank des Backups wird mit --target nicht wiederhergestellt (nur Dateien): mit "
       "--only db --database {} wiederherstellen"},
      {"transaction {} was begun by user {}, and its watchdog now runs as user {}: at the "
       "deadline its rollback runs stop, start and health as {} (run recover and extend as {}; "
       "in the recover unit: User={})",
       "Transaktion {} wurde von Benutzer {} begonnen, und ihr Watchdog läuft jetzt als Benutzer "
       "{}: zur Frist führt ihr Rollback stop, start und health als {} aus (recover und extend "
       "als {} ausführen; in der Recover-Unit: User={})"},
      {"{} files and directories were deleted while the backup ran ({}): left out",
       "{} Dateien und Verzeichnisse wurden während des Backups gelöscht ({}): ausgelassen"},
      {"{} files and directories were replaced while the backup ran, by what velin does not "
       "read in their place (a symlink, a fifo, a directory, or a file replaced again at each "
       "read) ({}): left out; the next backup takes what is there then",
       "{} Dateien und Verzeichnisse wurden während des Backups ersetzt, durch etwas, das velin "
       "an ihrer Stelle nicht liest (einen Symlink, ein FIFO, ein Verzeichnis oder eine Datei, "
       "die bei jedem Lesen erneut ersetzt war) ({}): ausgelassen; das nächste Backup nimmt, was "
       "dann dort ist"},
      {" and {} more", " und {} weitere"},
      {"Forget backup {} in {}? The next prune deletes its data",
       "Backup {} in {} vergessen? Das nächste prune löscht seine Daten"},
      {"forget cancelled; no backup was forgotten",
       "forget abgebrochen; kein Backup wurde vergessen"},
      {"Would forget backup {}", "Würde Backup {} vergessen"},
      {"the backup's objects belong or are granted to roles this server does not have ({}), and "
       "this user cannot create them ({}): as a superuser run `{}`, then try again; nothing was "
       "changed",
       "die Objekte des Backups gehören Rollen oder sind Rollen gewährt, die dieser Server nicht "
       "hat ({}), und dieser Benutzer kann sie nicht anlegen ({}): als Superuser `{}` ausführen, "
       "dann erneut versuchen; nichts wurde geändert"},
      {"{}: created the roles {} (without login and password), which the backup's owners and "
       "grants name: give those that log in LOGIN and a password",
       "{}: die Rollen {} angelegt (ohne Anmeldung und Passwort), die die Eigentümer und Rechte "
       "des Backups nennen: denen, die sich anmelden, LOGIN und ein Passwort geben"},
      {"the backup's views, triggers, routines or events are defined by {}, and {} may not create "
       "them for another account (that needs the SET USER privilege, or SUPER): restore as that "
       "account or one with the privilege; nothing was changed",
       "die Sichten, Trigger, Routinen oder Ereignisse des Backups sind von {} definiert, und {} "
       "darf sie nicht für ein anderes Konto anlegen (dafür braucht es das Recht SET USER oder "
       "SUPER): als dieses Konto oder eines mit dem Recht wiederherstellen; nichts wurde "
       "geändert"},
      {"a writer that died in a transaction left a hot journal ({}-journal), which only a "
       "connection that may write rolls back{}: open the database once as its owner (start the "
       "application, or `sqlite3 {} 'PRAGMA quick_check'`), then back up again",
       "ein Schreiber, der mitten in einer Transaktion abbrach, hat ein heißes Journal "
       "hinterlassen ({}-journal), das nur eine Verbindung mit Schreibrecht zurückrollt{}: die "
       "Datenbank einmal als ihr Eigentümer öffnen (die Anwendung starten oder `sqlite3 {} "
       "'PRAGMA quick_check'`), dann erneut sichern"},
      {"{}: too many levels of symbolic links", "{}: zu viele Ebenen symbolischer Links"},
      {"{}: tables of an engine without transactions ({}): the dump holds each as it was "
       "when it was read, not all at one moment; a write during the backup may be in it partly "
       "(ALTER TABLE … ENGINE=InnoDB makes them consistent)",
       "{}: Tabellen einer Engine ohne Transaktionen ({}): der Dump enthält jede, wie "
       "sie beim Lesen war, nicht alle zu einem Zeitpunkt; ein Schreibvorgang während des "
       "Backups kann teilweise darin sein (ALTER TABLE … ENGINE=InnoDB macht sie konsistent)"},
      {"; objects the backup does not hold depend on ones it replaces (a table inheriting "
       "from one of its tables, added since?): drop them first "
       "(the migration's down step), or restore into "
       "another database with --database NAME; nothing was changed",
       "; Objekte, die das Backup nicht enthält, hängen von solchen ab, die es ersetzt (eine "
       "seither hinzugefügte Tabelle, die von einer seiner Tabellen erbt?): sie zuerst "
       "entfernen (der "
       "Down-Schritt der Migration) oder mit --database NAME in eine andere Datenbank "
       "wiederherstellen; nichts wurde geändert"},
      {"session {} (user {}, {} for {} s", "Sitzung {} (Benutzer {}, {} seit {} s"},
      {", its transaction open for {} s", ", ihre Transaktion seit {} s offen"},
      {"{}: the restore waits for a table's metadata lock, which an open transaction of "
       "another session holds (this user may not see which: that takes the PROCESS "
       "privilege): it goes on when that transaction ends",
       "{}: die Wiederherstellung wartet auf die Metadatensperre einer Tabelle, die eine offene "
       "Transaktion einer anderen Sitzung hält (welche, darf dieser Benutzer nicht sehen: dafür "
       "braucht er das Recht PROCESS): sie geht weiter, sobald diese Transaktion endet"},
      {"{}: the restore waits for a table's metadata lock, which an open transaction holds: {}. "
       "It goes on when that transaction ends: end it there, or end the session (KILL {})",
       "{}: die Wiederherstellung wartet auf die Metadatensperre einer Tabelle, die eine offene "
       "Transaktion hält: {}. Sie geht weiter, sobald diese Transaktion endet: diese dort beenden "
       "oder die Sitzung beenden (KILL {})"},
      {"{}: the restore waits for a table's metadata lock, which an open transaction holds, "
       "likely one of these sessions on the database: {}. It goes on when that transaction "
       "ends: end it there, or end the session (KILL {})",
       "{}: die Wiederherstellung wartet auf die Metadatensperre einer Tabelle, die eine offene "
       "Transaktion hält, wohl eine dieser Sitzungen auf der Datenbank: {}. Sie geht weiter, "
       "sobald diese Transaktion endet: diese dort beenden oder die Sitzung beenden (KILL {})"},
      {"; a signal stops the restore while it waits, leaving the database partly restored",
       "; ein Signal bricht die Wiederherstellung ab, während sie wartet, und lässt die Datenbank "
       "teilweise wiederhergestellt zurück"},
      {"session {}", "Sitzung {}"},
      {"user {}", "Benutzer {}"},
      {"application '{}'", "Anwendung '{}'"},
      {"{}, its transaction open for {} s", "{}, ihre Transaktion seit {} s offen"},
      {"{}: the restore waits for a lock that {} holds: it goes on when that transaction ends. "
       "End it there, or end the session (SELECT pg_terminate_backend({})), or stop the restore "
       "(nothing is changed)",
       "{}: die Wiederherstellung wartet auf eine Sperre, die {} hält: sie geht weiter, sobald "
       "diese Transaktion endet. Diese dort beenden oder die Sitzung beenden (SELECT "
       "pg_terminate_backend({})) oder die Wiederherstellung abbrechen (nichts wird geändert)"},
      {"{}: the foreign keys of tables the backup does not hold to tables it restored were set "
       "aside for the restore and made again NOT VALID: {}. Their rows were not checked against "
       "the restored ones; `ALTER TABLE … VALIDATE CONSTRAINT …` checks them",
       "{}: die Fremdschlüssel von Tabellen, die das Backup nicht enthält, auf Tabellen, die es "
       "wiederhergestellt hat, wurden für die Wiederherstellung beiseitegelegt und als NOT VALID "
       "neu angelegt: {}. Ihre Zeilen wurden nicht gegen die wiederhergestellten geprüft; "
       "`ALTER TABLE … VALIDATE CONSTRAINT …` prüft sie"},
      {"restoring into '{}': {}, which the backup does not hold, cannot be made again on what "
       "it restores: {}; drop it first (the migration's down step), or restore into another "
       "database with --database NAME; nothing was changed",
       "Wiederherstellung in '{}': {}, das das Backup nicht enthält, lässt sich auf dem, was es "
       "wiederherstellt, nicht neu anlegen: {}; es zuerst entfernen (der Down-Schritt der "
       "Migration) oder mit --database NAME in eine andere Datenbank wiederherstellen; nichts "
       "wurde geändert"},
      {"{}: what the backup does not hold and depends on what it restored was set aside for the "
       "restore and made again: {}",
       "{}: was das Backup nicht enthält und von dem abhängt, was es wiederhergestellt hat, wurde "
       "für die Wiederherstellung beiseitegelegt und neu angelegt: {}"},
      {"trigger {} on {}", "Trigger {} auf {}"},
      {"default of {}.{}", "Vorgabewert von {}.{}"},
      {"column {}.{}", "Spalte {}.{}"},
      {"foreign key {}", "Fremdschlüssel {}"},
      {"database metadata: '{}' is not an array", "Datenbank-Metadaten: '{}' ist kein Array"},
      {"database metadata: '{}' holds something that is not a name",
       "Datenbank-Metadaten: '{}' enthält etwas, das kein Name ist"},
      {"[database] is configured but backup.include does not name \"db\": backups hold no "
       "database (add \"db\" to backup.include, or remove [database])",
       "[database] ist eingerichtet, aber backup.include nennt \"db\" nicht: Backups enthalten "
       "keine Datenbank (\"db\" in backup.include aufnehmen oder [database] entfernen)"},
      {"Forgot backup {}", "Backup {} vergessen"},
      {"`velin backup prune` deletes their data", "`velin backup prune` löscht ihre Daten"},
      {"backup.exclude '{}' is outside app.root ({}) and never matches: patterns are "
       "relative to app.root",
       "backup.exclude '{}' liegt außerhalb von app.root ({}) und trifft nie: Muster sind "
       "relativ zu app.root"},
      // config check and the commands agree (a password in a URL, the secret sources).
      {"key '{}' in [{}]: a password does not belong in the URL (use VELIN_FTP_PASSWORD for "
       "FTP, a key file for SFTP, storage.s3.credentials_file for S3)",
       "Schlüssel '{}' in [{}]: ein Passwort gehört nicht in die URL (VELIN_FTP_PASSWORD für FTP, "
       "eine Schlüsseldatei für SFTP, storage.s3.credentials_file für S3 verwenden)"},
      {"--password-file: {}", "--password-file: {}"},
      // MariaDB restores: system versioning, character sets, a restore that fails part way.
      {"{}: system-versioned tables ({}): the dump holds their current rows only, not their "
       "history, since {} {} cannot dump it (MariaDB 10.11's mariadb-dump and newer can)",
       "{}: systemversionierte Tabellen ({}): der Dump enthält nur ihre aktuellen Zeilen, nicht "
       "ihre Historie, da {} {} sie nicht sichern kann (mariadb-dump ab MariaDB 10.11 kann es)"},
      {"database '{}' has the character set {} with this server's default collation for it: "
       "the server lacks the backup's collation {}",
       "Datenbank '{}' hat den Zeichensatz {} mit der Standard-Sortierung dieses Servers dafür: "
       "dem Server fehlt die Sortierung {} des Backups"},
      {"database '{}' has this server's default character set: the server lacks the backup's, {}",
       "Datenbank '{}' hat den Standard-Zeichensatz dieses Servers: dem Server fehlt der des "
       "Backups, {}"},
      {"cannot alter database '{}': {}", "kann Datenbank '{}' nicht ändern: {}"},
      {"restoring into '{}': {}; the database is left partly restored (the tables up to that "
       "statement replaced, the rest as they were): a MariaDB restore cannot be rolled back, "
       "restore again once the cause is fixed",
       "Wiederherstellung in '{}': {}; die Datenbank bleibt teilweise wiederhergestellt (die "
       "Tabellen bis zu dieser Anweisung ersetzt, der Rest wie zuvor): eine MariaDB-"
       "Wiederherstellung lässt sich nicht zurückrollen, nach Behebung der Ursache erneut "
       "wiederherstellen"},
      {"the backup holds the history of its system-versioned tables ({}), and this server "
       "writes none (secure_timestamp = YES): restore onto a server with secure_timestamp = "
       "NO, its default; nothing was changed",
       "das Backup enthält die Historie seiner systemversionierten Tabellen ({}), und dieser "
       "Server schreibt keine (secure_timestamp = YES): auf einen Server mit secure_timestamp = "
       "NO, seiner Voreinstellung, wiederherstellen; nichts wurde geändert"},
      {"the backup holds the history of its system-versioned tables ({}), which this server "
       "(secure_timestamp = {}) lets only an account with the SUPER or BINLOG REPLAY privilege "
       "write, and {} has neither: restore as such an account; nothing was changed",
       "das Backup enthält die Historie seiner systemversionierten Tabellen ({}), die dieser "
       "Server (secure_timestamp = {}) nur ein Konto mit dem Recht SUPER oder BINLOG REPLAY "
       "schreiben lässt, und {} hat keines davon: als ein solches Konto wiederherstellen; "
       "nichts wurde geändert"},
      // PostgreSQL: a new database's own settings, default privileges, row-level security.
      {"{}: the backup's views, triggers, routines or events are defined by {}, which this "
       "server has no account for: they fail when used (\"The user specified as a definer "
       "does not exist\") until you create it (`{}`, with the grants it had)",
       "{}: die Views, Trigger, Routinen oder Events des Backups sind von {} definiert, für das "
       "dieser Server kein Konto hat: sie schlagen bei Benutzung fehl (\"The user specified as a "
       "definer does not exist\"), bis es angelegt ist (`{}`, mit den Rechten, die es hatte)"},
      {"{}: database '{}' is owned by this restore's user, not by {} as the backup's database "
       "was ({}): as a superuser run `{}`",
       "{}: Datenbank '{}' gehört dem Benutzer dieser Wiederherstellung, nicht {} wie die "
       "Datenbank des Backups ({}): als Superuser `{}` ausführen"},
      {"{}: database '{}' was created without some of the backup database's own settings, "
       "grants or comment, which this user could not apply: {}",
       "{}: Datenbank '{}' wurde ohne einige der eigenen Einstellungen, Rechte oder des "
       "Kommentars der Datenbank des Backups angelegt, die dieser Benutzer nicht anwenden "
       "konnte: {}"},
      {"the default privileges", "die Standardrechte"},
      {"; row-level security would hide rows of {} from {}: back up as a role with BYPASSRLS "
       "(ALTER ROLE {} BYPASSRLS, as a superuser), or, for a table it owns, ALTER TABLE … NO "
       "FORCE ROW LEVEL SECURITY",
       "; Sicherheit auf Zeilenebene würde Zeilen von {} vor {} verbergen: als Rolle mit "
       "BYPASSRLS sichern (ALTER ROLE {} BYPASSRLS, als Superuser) oder, für eine eigene "
       "Tabelle, ALTER TABLE … NO FORCE ROW LEVEL SECURITY"},
      // Version names read back from the state files; the fleet's switch back (--undo).
      {"{}: {}; velin never writes such a name (the file was edited or damaged)",
       "{}: {}; velin schreibt nie einen solchen Namen (die Datei wurde bearbeitet oder ist "
       "beschädigt)"},
      {"{}: {} '{}' is not a name below {}; velin never writes such a name (the file was "
       "edited or damaged)",
       "{}: {} '{}' ist kein Name unterhalb von {}; velin schreibt nie einen solchen Namen (die "
       "Datei wurde bearbeitet oder ist beschädigt)"},
      {"{}: field 'config' is '{}', not keep or saved",
       "{}: Feld 'config' ist '{}', nicht keep oder saved"},
      {"{}: field 'config' is saved, but 'config_saved' names none",
       "{}: Feld 'config' ist saved, aber 'config_saved' nennt keine"},
      {"rollback.artifacts: {} is a symbolic link to {}, which holds or lies in "
       "rollback.state_dir ({}); list the application's own paths instead",
       "rollback.artifacts: {} ist ein symbolischer Link auf {}, das rollback.state_dir ({}) "
       "enthält oder darin liegt; stattdessen die eigenen Pfade der Anwendung angeben"},
      {"{} is not a directory (a file put in its place?)",
       "{} ist kein Verzeichnis (eine Datei an seine Stelle gelegt?)"},
      {"the configuration saved before the switch to {} ({}) is gone",
       "die vor dem Wechsel zu {} gesicherte Konfiguration ({}) ist verschwunden"},
      {"cannot undo a switch from {} to {}: the last switch here {}; nothing was changed",
       "kann einen Wechsel von {} zu {} nicht rückgängig machen: der letzte Wechsel hier {}; "
       "nichts wurde geändert"},
      {"is none (or an adopt)", "gibt es nicht (oder war ein adopt)"},
      {"went from {} to {}", "ging von {} zu {}"},
      {"cannot undo the switch from {} to {}: the configuration saved before it ({}) is gone; "
       "nothing was changed",
       "kann den Wechsel von {} zu {} nicht rückgängig machen: die davor gesicherte "
       "Konfiguration ({}) ist verschwunden; nichts wurde geändert"},
      {"cannot undo the switch from {} to {}: its history entry names no saved configuration "
       "(an older velin made it); nothing was changed: switch with 'velin rollback to-version "
       "{}' and put the configuration back by hand",
       "kann den Wechsel von {} zu {} nicht rückgängig machen: sein Verlaufseintrag nennt keine "
       "gesicherte Konfiguration (ein älteres velin hat ihn geschrieben); nichts wurde geändert: "
       "mit 'velin rollback to-version {}' wechseln und die Konfiguration von Hand "
       "zurücklegen"},
      {"--undo goes with none of --dry-run, --restore-data and --fleet",
       "--undo passt zu keinem von --dry-run, --restore-data und --fleet"},
      // A count of one (TrCount): its own template, as "1 file" (dc5dfcb9).
      {"Database restore test passed: {} table, row count matches",
       "Wiederherstellungstest der Datenbank bestanden: {} Tabelle, Zeilenzahl stimmt"},
      {"{} file or directory has extended attributes (ACLs among them) that repository "
       "format version {} cannot store; `velin backup upgrade` raises it to {}",
       "{} Datei oder Verzeichnis hat erweiterte Attribute (darunter ACLs), die ein "
       "Repository der Formatversion {} nicht speichern kann; `velin backup upgrade` hebt es auf "
       "{} an"},
      {"{} file changed while it was read, and again when read once more ({}): the backup "
       "holds it as the second read found it, which may mix old and new data; the next "
       "backup reads it again",
       "{} Datei änderte sich, während sie gelesen wurde, und erneut beim zweiten Lesen ({}): "
       "das Backup enthält sie so, wie das zweite Lesen sie fand, womöglich gemischt aus alten "
       "und neuen Daten; das nächste Backup liest sie erneut"},
      {"{} file or directory has an mtime outside what a backup can record, 1677-09-21 to "
       "2262-04-11 ({}): it is stored as the nearest of these times, which a restore gives it",
       "{} Datei oder Verzeichnis hat eine Änderungszeit außerhalb dessen, was ein Backup "
       "festhalten kann, 1677-09-21 bis 2262-04-11 ({}): sie wird als die nächstgelegene dieser "
       "Zeiten gespeichert, und eine Wiederherstellung setzt diese"},
      {"{} file or directory was deleted while the backup ran ({}): left out",
       "{} Datei oder Verzeichnis wurde während des Backups gelöscht ({}): ausgelassen"},
      {"{} file or directory was replaced while the backup ran, by what velin does not "
       "read in its place (a symlink, a fifo, a directory, or a file replaced again at each "
       "read) ({}): left out; the next backup takes what is there then",
       "{} Datei oder Verzeichnis wurde während des Backups ersetzt, durch etwas, das velin "
       "an seiner Stelle nicht liest (einen Symlink, ein FIFO, ein Verzeichnis oder eine Datei, "
       "die bei jedem Lesen erneut ersetzt war) ({}): ausgelassen; das nächste Backup nimmt, was "
       "dann dort ist"},
      {"{} file or directory is restored with an owner this machine has no user or group "
       "for ({}; e.g. {}): a backup keeps numeric owners; give it to the application's user "
       "(chown -R USER:GROUP …)",
       "{} Datei oder Verzeichnis ist mit einem Eigentümer wiederhergestellt, für den diese "
       "Maschine keinen Benutzer oder keine Gruppe hat ({}; z. B. {}): ein Backup bewahrt "
       "numerische Eigentümer; es dem Benutzer der Anwendung geben (chown -R BENUTZER:GRUPPE …)"},
      {"{} file", "{} Datei"},
      {"{} blob", "{} Blob"},
      {"Restored {} file ({}) into {}", "{} Datei ({}) nach {} wiederhergestellt"},
      {"Restore test of the files of backup {} passed ({} file)",
       "Wiederherstellungstest der Dateien von Backup {} bestanden ({} Datei)"},
      {"  table {}: {} row", "  Tabelle {}: {} Zeile"},
      {"table '{}': {} row recorded, missing after the restore",
       "Tabelle '{}': {} Zeile gesichert, fehlt nach der Wiederherstellung"},
      {"table '{}': not recorded, {} row after the restore",
       "Tabelle '{}': nicht gesichert, {} Zeile nach der Wiederherstellung"},
      {"table '{}': {} row recorded, {} restored",
       "Tabelle '{}': {} Zeile gesichert, {} wiederhergestellt"},
      {"{} pack listed in the index of {} is missing there or truncated ({}); what the "
       "backups copied now need of it is copied again — run 'velin backup verify --all' on it "
       "to see which other backups there are damaged",
       "{} im Index von {} verzeichnetes Pack fehlt dort oder ist abgeschnitten ({}); "
       "was die jetzt kopierten Backups davon brauchen, wird erneut kopiert — 'velin backup "
       "verify --all' dort zeigt, welche anderen Backups beschädigt sind"},
      {"{} pack of {} that a verify found damaged is not used ({}); what the backups "
       "copied now need of it is copied again",
       "{} Pack von {}, das ein Verify beschädigt vorfand, wird nicht verwendet ({}); "
       "was die jetzt kopierten Backups davon brauchen, wird erneut kopiert"},
      {"{} pack listed in the index is missing from the repository or truncated ({}); "
       "its data is stored again — run 'velin backup verify --all' to see which backups are "
       "damaged",
       "{} im Index verzeichnetes Pack fehlt im Repository oder ist abgeschnitten ({}); "
       "seine Daten werden erneut gespeichert — 'velin backup verify --all' zeigt, welche Backups "
       "beschädigt sind"},
      {"{} pack a verify found damaged is not used ({}); its data is stored again — "
       "once no backup needs it, `velin backup prune` removes it",
       "{} Pack, das ein Verify beschädigt vorfand, wird nicht verwendet ({}); seine "
       "Daten werden erneut gespeichert — sobald kein Backup es mehr braucht, entfernt "
       "`velin backup prune` es"},
      // Schema levels and the commands of an interrupted switch (docs/rollback.md).
      {"rollback to {} refused: {}; nothing was changed, the service was not stopped (still {})",
       "Rollback auf {} abgelehnt: {}; nichts wurde geändert, der Dienst wurde nicht gestoppt "
       "(weiterhin {})"},
      {"could not record rollback.{} in {}: {}; running it all the same",
       "konnte rollback.{} nicht in {} vermerken: {}; es läuft trotzdem"},
      {"rollback.{} (process {}), started by the interrupted switch to {}, still runs: waiting "
       "for it to end (until {}, its timeout) before the switch goes on",
       "rollback.{} (Prozess {}), vom unterbrochenen Wechsel zu {} gestartet, läuft noch: es wird "
       "bis zu seinem Ende gewartet (bis {}, seine Zeitgrenze), bevor der Wechsel weitergeht"},
      {"rollback.{} (process {}) did not end within its timeout: killed",
       "rollback.{} (Prozess {}) endete nicht innerhalb seiner Zeitgrenze: beendet"},
      {"could not record {} in {}: {}; running it all the same",
       "konnte {} nicht in {} vermerken: {}; es läuft trotzdem"},
      {"{} (process {}), started for {} by a velin that was killed, still runs: waiting for it to "
       "end (at most {}, its timeout) before going on",
       "{} (Prozess {}), für {} von einem beendeten velin gestartet, läuft noch: es wird bis zu "
       "seinem Ende gewartet (höchstens {}, seine Zeitgrenze), bevor es weitergeht"},
      {"{} (process {}) did not end within its timeout: killed",
       "{} (Prozess {}) endete nicht innerhalb seiner Zeitgrenze: beendet"},
      {"the switch to {}", "den Wechsel zu {}"},
      {"the adopt as {}", "die Übernahme als {}"},
      {"create-version {}", "create-version {}"},
      {"a transaction", "eine Transaktion"},
      {"the stack limit (ulimit -s) is {} KiB and velin could not make a thread with a larger "
       "stack (error {}): raise it (ulimit -s 1024)",
       "die Stackgrenze (ulimit -s) ist {} KiB, und velin konnte keinen Thread mit größerem "
       "Stack anlegen (Fehler {}): erhöhen Sie sie (ulimit -s 1024)"},
      {"Schema level: unknown ({})", "Schemastand: unbekannt ({})"},
      {"Schema level: {} ({} was recorded at {})", "Schemastand: {} ({} wurde bei {} vermerkt)"},
      {"Schema level: {}", "Schemastand: {}"},
      {"schema level {}", "Schemastand {}"},
  };
  return kTable;
}

}  // namespace velin::i18n_detail
