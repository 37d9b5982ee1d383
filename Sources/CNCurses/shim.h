// Thin shim over ncursesw: exposes the macros and globals Swift 6 cannot import directly.
#ifndef CSAR_CNCURSES_SHIM_H
#define CSAR_CNCURSES_SHIM_H
#ifndef _XOPEN_SOURCE_EXTENDED
#define _XOPEN_SOURCE_EXTENDED 1
#endif
#define NCURSES_WIDECHAR 1
#include <locale.h>
#include <ncursesw/curses.h>

static inline WINDOW *csar_stdscr(void) { return stdscr; }
static inline int csar_lines(void) { return LINES; }
static inline int csar_cols(void) { return COLS; }
static inline int csar_colors(void) { return COLORS; }
static inline int csar_color_pairs(void) { return COLOR_PAIRS; }
#endif
