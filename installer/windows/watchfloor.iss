; Inno Setup 6 script of the Windows installer. Build steps: docs/IT.md ("Windows").
;   ISCC.exe /DAppVersion=0.1.0 installer\windows\watchfloor.iss
; It packs the PyInstaller bundle built by installer\windows\watchfloor.spec into
; dist\watchfloor-<version>-setup.exe. Uninstalling removes the program only: databases,
; logs and configuration stay where they are.

#ifndef AppVersion
  #error Pass the version: ISCC /DAppVersion=x.y.z (the value of app/__init__.py)
#endif
#define Bundle "..\..\build\installer\windows\bundle\watchfloor"

[Setup]
; The AppId identifies the program across upgrades: never change it.
AppId={{6F3B2E0C-7A51-4C39-9D1E-2B8F4A6C0D57}
AppName=watchfloor
AppVersion={#AppVersion}
AppVerName=watchfloor {#AppVersion}
AppPublisher=watchfloor
DefaultDirName={autopf}\watchfloor
DefaultGroupName=watchfloor
DisableProgramGroupPage=yes
OutputDir=..\..\dist
OutputBaseFilename=watchfloor-{#AppVersion}-setup
Compression=lzma2
SolidCompression=yes
WizardStyle=modern
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
PrivilegesRequired=admin
UninstallDisplayIcon={app}\watchfloor.exe
UninstallDisplayName=watchfloor {#AppVersion}
ChangesEnvironment=yes
; An upgrade closes running walls and consoles first and starts nothing by itself.
CloseApplications=yes
RestartApplications=no

[Tasks]
Name: "machineconfig"; Description: "Install one configuration for every user of this PC (%ProgramData%\watchfloor\config.toml; a user's own file still comes first)"; Flags: unchecked
Name: "wallautostart"; Description: "Start the wall displays (kiosk) when a user signs in"; Flags: unchecked
Name: "addtopath"; Description: "Add watchfloor to the system PATH (for scripts and ""watchfloor doctor"")"

[Files]
Source: "{#Bundle}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs
; The machine-wide configuration starts as the demo; an existing one is never overwritten
; or removed (IT edits it).
Source: "..\..\config\demo.toml"; DestDir: "{commonappdata}\watchfloor"; DestName: "config.toml"; Flags: onlyifdoesntexist uninsneveruninstall; Tasks: machineconfig
Source: "..\..\docs\IT.md"; DestDir: "{app}"; Flags: ignoreversion

[Icons]
Name: "{autoprograms}\watchfloor\watchfloor console"; Filename: "{app}\watchfloorw.exe"; Parameters: "console"
Name: "{autoprograms}\watchfloor\watchfloor wall"; Filename: "{app}\watchfloorw.exe"; Parameters: "wall"
Name: "{autoprograms}\watchfloor\watchfloor doctor"; Filename: "{cmd}"; Parameters: "/k ""{app}\watchfloor.exe"" doctor"
Name: "{commonstartup}\watchfloor wall"; Filename: "{app}\watchfloorw.exe"; Parameters: "wall --kiosk"; Tasks: wallautostart

[Registry]
Root: HKLM; Subkey: "SYSTEM\CurrentControlSet\Control\Session Manager\Environment"; ValueType: expandsz; ValueName: "Path"; ValueData: "{olddata};{app}"; Tasks: addtopath; Check: NeedsAddPath(ExpandConstant('{app}'))

[Run]
Filename: "{cmd}"; Parameters: "/k ""{app}\watchfloor.exe"" doctor"; Description: "Check this PC now (watchfloor doctor)"; Flags: postinstall skipifsilent unchecked

[Code]
const
  EnvKey = 'SYSTEM\CurrentControlSet\Control\Session Manager\Environment';

{ True when Dir is not yet one of the entries of the system PATH. }
function NeedsAddPath(Dir: string): Boolean;
var
  Paths: string;
begin
  if not RegQueryStringValue(HKEY_LOCAL_MACHINE, EnvKey, 'Path', Paths) then
  begin
    Result := True;
    exit;
  end;
  Result := Pos(';' + Uppercase(Dir) + ';', ';' + Uppercase(Paths) + ';') = 0;
end;

{ Uninstalling takes the program's folder out of the system PATH again (the task added
  it as ";<folder>"); everything else users made stays. }
procedure CurUninstallStepChanged(CurUninstallStep: TUninstallStep);
var
  Paths: string;
begin
  if CurUninstallStep <> usPostUninstall then
    exit;
  if RegQueryStringValue(HKEY_LOCAL_MACHINE, EnvKey, 'Path', Paths) then
    if StringChangeEx(Paths, ';' + ExpandConstant('{app}'), '', True) > 0 then
      RegWriteExpandStringValue(HKEY_LOCAL_MACHINE, EnvKey, 'Path', Paths);
end;
