; Inno Setup 6 script: a per-user installer for the icbmap one-folder bundle (no admin rights).
;
; Build the bundle first (packaging\README.md), then from the repository root:
;   iscc /DAppVersion=0.1.0 packaging\windows\icbmap.iss
; Output: packaging\dist\icbmap-<version>-setup.exe
;
; Installs to %LOCALAPPDATA%\Programs\icbmap, adds Start menu shortcuts (and optionally a
; desktop one) and an uninstaller under "Apps & features" for the current user.  Proposal
; files end in .icbmap.json, so no file type is registered (that would take over .json).

#ifndef AppVersion
  #define AppVersion "0.1.0"
#endif
#define AppName "icbmap"
#define BundleDir "..\dist\icbmap"

[Setup]
AppId={{6C1D0E3A-5B7F-4C1E-9B1E-1C8A2E0F7A31}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher=icbmap developers
AppComments=Redraw NHS England's integrated care boards
VersionInfoVersion={#AppVersion}
; per-user install, never elevates
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=
DefaultDirName={localappdata}\Programs\{#AppName}
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
DisableDirPage=auto
UsePreviousAppDir=yes
OutputDir=..\dist
OutputBaseFilename={#AppName}-{#AppVersion}-setup
SetupIconFile=..\..\resources\icons\icbmap.ico
UninstallDisplayIcon={app}\icbmap.exe
UninstallDisplayName={#AppName} {#AppVersion}
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
CloseApplications=yes

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
Source: "{#BundleDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[InstallDelete]
; files of an older version that the new one no longer ships
Type: filesandordirs; Name: "{app}\_internal"

[Icons]
Name: "{userprograms}\{#AppName}"; Filename: "{app}\icbmap.exe"; Comment: "Redraw NHS England's integrated care boards"
Name: "{userdesktop}\{#AppName}"; Filename: "{app}\icbmap.exe"; Tasks: desktopicon

[Run]
Filename: "{app}\icbmap.exe"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent
