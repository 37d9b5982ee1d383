// Thin shim over ncursesw: exposes the macros and globals Swift 6 cannot import directly, and
// the async-signal-safe terminal restore used by the Terminal module's signal handlers.
//
// CNCurses is a system-library target, so it cannot compile .c files: everything here is a
// `static` function in the header. Static functions (and their function-local statics) are
// emitted once per object file that uses them, so the stateful ones (`csar_term_*`) must only
// be called from one Swift file: Sources/Terminal/NCursesTerminal.swift.
#ifndef CSAR_CNCURSES_SHIM_H
#define CSAR_CNCURSES_SHIM_H
#ifndef _XOPEN_SOURCE_EXTENDED
#define _XOPEN_SOURCE_EXTENDED 1
#endif
#define NCURSES_WIDECHAR 1
#include <errno.h>
#include <langinfo.h>
#include <locale.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <termios.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <wchar.h>
#include <ncursesw/curses.h>

// MARK: - Globals and macros

static inline WINDOW *csar_stdscr(void) { return stdscr; }
static inline int csar_lines(void) { return LINES; }
static inline int csar_cols(void) { return COLS; }
static inline int csar_colors(void) { return COLORS; }
static inline int csar_color_pairs(void) { return COLOR_PAIRS; }
static inline int csar_getmaxy(WINDOW *win) { return win ? getmaxy(win) : 0; }
static inline int csar_getmaxx(WINDOW *win) { return win ? getmaxx(win) : 0; }
static inline int csar_key_f0(void) { return KEY_F0; }
static inline int csar_wcwidth(int c) { return wcwidth((wchar_t)c); }
static inline int csar_isatty(int fd) { return isatty(fd); }

/// Maps the Terminal module's TextAttributes bits (bold 1, dim 2, underline 4, reverse 8,
/// italic 16) to ncurses attributes.
static inline attr_t csar_attributes(unsigned mask) {
  attr_t a = A_NORMAL;
  if (mask & 1u) a |= A_BOLD;
  if (mask & 2u) a |= A_DIM;
  if (mask & 4u) a |= A_UNDERLINE;
  if (mask & 8u) a |= A_REVERSE;
#ifdef A_ITALIC
  if (mask & 16u) a |= A_ITALIC;
#endif
  return a;
}

/// setcchar with an extended (int) colour pair, so pairs above 32767 work.
static inline int csar_setcchar(cchar_t *cell, const wchar_t *text, attr_t attrs, int pair) {
  int extended = pair;
  return setcchar(cell, text, attrs, 0, &extended);
}

/// Sets the locale from the environment; if that does not give UTF-8 (LANG unset, "C"),
/// falls back to a UTF-8 LC_CTYPE so wide characters still work. Returns 1 when UTF-8.
static inline int csar_setup_locale(void) {
  setlocale(LC_ALL, "");
  const char *codeset = nl_langinfo(CODESET);
  if (codeset && (strcasecmp(codeset, "UTF-8") == 0 || strcasecmp(codeset, "utf8") == 0)) {
    return 1;
  }
  const char *fallbacks[] = {"C.UTF-8", "C.utf8", "en_US.UTF-8"};
  for (size_t i = 0; i < sizeof fallbacks / sizeof fallbacks[0]; i++) {
    if (setlocale(LC_CTYPE, fallbacks[i]) != NULL) return 1;
  }
  return 0;
}

// MARK: - Terminal state (use only from NCursesTerminal.swift)

#define CSAR_RESTORE_CAPACITY 512
#define CSAR_MAX_SIGNAL 65

typedef struct {
  volatile sig_atomic_t active;           // 1 while curses owns the terminal
  int fd;                                 // the terminal's output descriptor
  int have_termios;
  struct termios saved_termios;           // the shell's tty modes, taken before newterm
  char restore[CSAR_RESTORE_CAPACITY];    // CAN + sgr0 + cnorm + rmkx + rmcup
  size_t restore_length;
  SCREEN *screen;
  int handlers_installed;
  int atexit_registered;
  int installed[CSAR_MAX_SIGNAL];
  struct sigaction previous[CSAR_MAX_SIGNAL];
} csar_terminal_state;

static csar_terminal_state *csar_term_state(void) {
  static csar_terminal_state state;
  return &state;
}

/// Appends a terminfo string capability (without "$<..>" padding) to the restore sequence.
static void csar_term_append_capability(csar_terminal_state *s, const char *name) {
  char *value = tigetstr(name);
  if (value == NULL || value == (char *)-1) return;
  for (const char *p = value; *p; p++) {
    if (p[0] == '$' && p[1] == '<') {
      const char *end = strchr(p, '>');
      if (end) { p = end; continue; }
    }
    if (s->restore_length + 1 >= CSAR_RESTORE_CAPACITY) return;
    s->restore[s->restore_length++] = *p;
  }
}

/// Async-signal-safe: writes the precomputed reset sequence and restores the tty modes.
/// Only write(2) and tcsetattr(3), both async-signal-safe.
static void csar_term_emergency_restore(void) {
  csar_terminal_state *s = csar_term_state();
  if (!s->active) return;
  s->active = 0;
  if (s->restore_length > 0) {
    const char *p = s->restore;
    size_t left = s->restore_length;
    while (left > 0) {
      ssize_t n = write(s->fd, p, left);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      p += n;
      left -= (size_t)n;
    }
  }
  if (s->have_termios) tcsetattr(s->fd, TCSANOW, &s->saved_termios);
}

/// SIGINT, SIGTERM, SIGHUP, SIGQUIT: restore the terminal, then exit with 128 + signo.
static void csar_term_on_terminate(int signo) {
  csar_term_emergency_restore();
  _exit(128 + signo);
}

/// Crash signals: restore the terminal, put back the previous action (SIG_DFL, or the Swift
/// runtime's backtracer) and let it run: a fault re-executes the faulting instruction on
/// return; a signal that was sent (kill, raise, abort) is raised again.
static void csar_term_on_crash(int signo, siginfo_t *info, void *context) {
  (void)context;
  csar_term_emergency_restore();
  csar_terminal_state *s = csar_term_state();
  if (signo > 0 && signo < CSAR_MAX_SIGNAL && s->installed[signo]) {
    sigaction(signo, &s->previous[signo], NULL);
    s->installed[signo] = 0;
  } else {
    signal(signo, SIG_DFL);
  }
  if (info == NULL || info->si_code <= 0) raise(signo);
}

static void csar_term_atexit(void) {
  csar_terminal_state *s = csar_term_state();
  if (!s->active) return;
  s->active = 0;
  endwin();
}

static void csar_term_install(int signo, int crash) {
  csar_terminal_state *s = csar_term_state();
  if (signo <= 0 || signo >= CSAR_MAX_SIGNAL || s->installed[signo]) return;
  struct sigaction previous;
  if (sigaction(signo, NULL, &previous) != 0) return;
  // A signal the parent chose to ignore (nohup, background job) stays ignored.
  if (!crash && previous.sa_handler == SIG_IGN) return;
  struct sigaction action;
  memset(&action, 0, sizeof action);
  sigemptyset(&action.sa_mask);
  if (crash) {
    action.sa_sigaction = csar_term_on_crash;
    action.sa_flags = SA_SIGINFO | SA_NODEFER;
  } else {
    action.sa_handler = csar_term_on_terminate;
  }
  if (sigaction(signo, &action, &s->previous[signo]) == 0) s->installed[signo] = 1;
}

static void csar_term_install_handlers(void) {
  csar_terminal_state *s = csar_term_state();
  if (s->handlers_installed) return;
  s->handlers_installed = 1;
  const int terminate[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
  const int crash[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP};
  for (size_t i = 0; i < sizeof terminate / sizeof terminate[0]; i++) {
    csar_term_install(terminate[i], 0);
  }
  for (size_t i = 0; i < sizeof crash / sizeof crash[0]; i++) csar_term_install(crash[i], 1);
  if (!s->atexit_registered) {
    s->atexit_registered = 1;
    atexit(csar_term_atexit);
  }
}

static void csar_term_remove_handlers(void) {
  csar_terminal_state *s = csar_term_state();
  for (int signo = 1; signo < CSAR_MAX_SIGNAL; signo++) {
    if (!s->installed[signo]) continue;
    sigaction(signo, &s->previous[signo], NULL);
    s->installed[signo] = 0;
  }
  s->handlers_installed = 0;
}

/// Binds the Home/End/Delete/Insert sequences common terminals send, where the terminfo entry
/// in use does not already know them (e.g. TERM=xterm-256color inside tmux sends ESC[1~).
static void csar_term_define_fallback_keys(void) {
  static const struct { const char *sequence; int code; } keys[] = {
    {"\033[1~", KEY_HOME}, {"\033[7~", KEY_HOME}, {"\033[H", KEY_HOME}, {"\033OH", KEY_HOME},
    {"\033[4~", KEY_END},  {"\033[8~", KEY_END},  {"\033[F", KEY_END},  {"\033OF", KEY_END},
    {"\033[3~", KEY_DC},   {"\033[2~", KEY_IC},   {"\033[Z", KEY_BTAB},
  };
  for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
    if (key_defined(keys[i].sequence) == 0) define_key(keys[i].sequence, keys[i].code);
  }
}

/// Writes raw bytes (a graphics protocol's sequences) after what curses wrote, on the same
/// stdio stream, and flushes.
static inline void csar_term_write(const unsigned char *bytes, size_t count) {
  fwrite(bytes, 1, count, stdout);
  fflush(stdout);
}

/// Reads what the terminal sent within timeout_ms: the byte count, 0 when nothing came.
static inline long csar_term_read(unsigned char *buffer, size_t capacity, int timeout_ms) {
  struct pollfd request = {STDIN_FILENO, POLLIN, 0};
  if (poll(&request, 1, timeout_ms) <= 0) return 0;
  long got = read(STDIN_FILENO, buffer, capacity);
  return got < 0 ? 0 : got;
}

/// The pixel size of one cell from the terminal's window size (TIOCGWINSZ, which xterm, kitty
/// and OpenSSH fill in): 1 when known, 0 when the terminal leaves the pixels at zero.
static inline int csar_term_cell_pixels(int *width, int *height) {
  struct winsize size;
  if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) != 0) return 0;
  if (size.ws_col == 0 || size.ws_row == 0 || size.ws_xpixel == 0 || size.ws_ypixel == 0) {
    return 0;
  }
  *width = size.ws_xpixel / size.ws_col;
  *height = size.ws_ypixel / size.ws_row;
  return *width > 0 && *height > 0;
}

/// tmux's allow-passthrough option ("on", "all", "off"), or "" when tmux cannot say.
static inline void csar_tmux_passthrough(char *out, size_t capacity) {
  out[0] = 0;
  FILE *pipe = popen("tmux show -gv allow-passthrough 2>/dev/null", "r");
  if (pipe == NULL) return;
  if (fgets(out, (int)capacity, pipe) == NULL) out[0] = 0;
  pclose(pipe);
}

/// Result codes of csar_term_start.
enum {
  CSAR_TERM_OK = 0,
  CSAR_TERM_NOT_A_TTY = 1,
  CSAR_TERM_NEWTERM_FAILED = 2,
  CSAR_TERM_ALREADY_ACTIVE = 3
};

/// Starts curses on stdin/stdout (newterm, so an unknown TERM is an error code instead of
/// initscr's exit), sets the modes, records how to restore the terminal and installs the
/// signal and atexit handlers.
static int csar_term_start(void) {
  csar_terminal_state *s = csar_term_state();
  if (s->active) return CSAR_TERM_ALREADY_ACTIVE;
  if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) return CSAR_TERM_NOT_A_TTY;
  s->fd = STDOUT_FILENO;
  s->have_termios = tcgetattr(s->fd, &s->saved_termios) == 0;
  SCREEN *screen = newterm(NULL, stdout, stdin);
  if (screen == NULL) return CSAR_TERM_NEWTERM_FAILED;
  set_term(screen);
  s->screen = screen;
  s->restore_length = 0;
  s->restore[s->restore_length++] = 0x18;  // CAN: abort a half-written escape sequence
  csar_term_append_capability(s, "sgr0");
  csar_term_append_capability(s, "cnorm");
  csar_term_append_capability(s, "rmkx");
  csar_term_append_capability(s, "rmcup");
  s->active = 1;
  csar_term_install_handlers();
  cbreak();
  noecho();
  nonl();
  intrflush(stdscr, FALSE);
  keypad(stdscr, TRUE);
  scrollok(stdscr, FALSE);
  leaveok(stdscr, TRUE);
  curs_set(0);
  set_escdelay(25);
  csar_term_define_fallback_keys();
  return CSAR_TERM_OK;
}

/// Normal shutdown: endwin, free the screen, put the previous signal actions back.
static void csar_term_stop(void) {
  csar_terminal_state *s = csar_term_state();
  if (s->active) {
    s->active = 0;
    endwin();
  }
  if (s->screen) {
    delscreen(s->screen);
    s->screen = NULL;
  }
  csar_term_remove_handlers();
}

static inline int csar_term_is_active(void) { return csar_term_state()->active ? 1 : 0; }

#endif
