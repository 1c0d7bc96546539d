// rngpool watch.
//
// What a person at a terminal (often over ssh) wants to see at a glance:
// the health verdict, the hwrng's state, how much is served and tested now
// and over the last minute, and the counters that say something went wrong.
// It asks for nothing but STATUS, once a second, through librngpool, so it
// works wherever `rngpool status` does.
//
// The screen is drawn with plain ANSI escapes (alternate screen, home,
// clear to end of line) -- every terminal emulator and tmux understand
// them, and no curses library is needed.  The terminal is put back however
// the view ends: q, Ctrl-C, SIGTERM, SIGHUP, or an error.  When stdout is
// not a terminal there is no screen: one line per second, for a log or a
// pipe.
#include "watch.hpp"

#include "arguments.hpp"
#include "output.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <deque>
#include <exception>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace rngpool::cli {

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr std::size_t kHistory = 60;  // one sample a second: the last minute

// ---------------------------------------------------------------------------
// Signals and the terminal
//
// Ctrl-C stays a signal (ISIG is kept), so it works even while a STATUS is
// on its way; the handler only sets a flag.  The stop signals are blocked
// except inside ppoll(), so one that comes between the flag's check and the
// sleep cannot be lost to a full second's sleep, and they are unblocked for
// the sleep even when the caller handed us a mask that blocks them.
// ---------------------------------------------------------------------------

volatile sig_atomic_t g_stop = 0;

void on_signal(int) { g_stop = 1; }

sigset_t g_sleep_mask;  // the mask inside ppoll(): the stop signals open

void catch_stop_signals() {
  struct sigaction action {};
  action.sa_handler = on_signal;
  sigemptyset(&action.sa_mask);
  sigset_t stop;
  sigemptyset(&stop);
  for (int signal : {SIGINT, SIGTERM, SIGHUP}) {
    sigaction(signal, &action, nullptr);
    sigaddset(&stop, signal);
  }
  sigprocmask(SIG_BLOCK, &stop, &g_sleep_mask);
  for (int signal : {SIGINT, SIGTERM, SIGHUP})
    sigdelset(&g_sleep_mask, signal);
}

void put(std::string_view text) {
  write_all(STDOUT_FILENO, std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
}

// Raw keys (no echo, no line buffering) and the alternate screen while it
// lives; the old settings and the old screen when it goes.
class Screen {
 public:
  Screen() {
    if (::tcgetattr(STDIN_FILENO, &saved_) == 0) {
      termios raw = saved_;
      raw.c_lflag &= static_cast<tcflag_t>(~(ICANON | ECHO));
      raw.c_cc[VMIN] = 0;
      raw.c_cc[VTIME] = 0;
      restore_keys_ = ::tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
    }
    put("\x1b[?1049h\x1b[?25l");
  }
  ~Screen() {
    try {
      put("\x1b[?25h\x1b[?1049l");
    } catch (const std::exception&) {
    }
    if (restore_keys_)
      ::tcsetattr(STDIN_FILENO, TCSANOW, &saved_);
  }
  Screen(const Screen&) = delete;
  Screen& operator=(const Screen&) = delete;

 private:
  termios saved_{};
  bool restore_keys_ = false;
};

int terminal_width() {
  winsize size{};
  return ::ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0 ? size.ws_col : 80;
}

// Sleeps until `until`; true when the person asked to quit (q, or a signal).
bool wait_or_quit(Clock::time_point until, bool keys) {
  while (!g_stop) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now());
    if (left.count() <= 0)
      return false;
    pollfd p{STDIN_FILENO, POLLIN, 0};
    const timespec timeout{static_cast<time_t>(left.count() / 1000), static_cast<long>(left.count() % 1000) * 1000000};
    const int ready = ::ppoll(&p, keys ? 1 : 0, &timeout, &g_sleep_mask);
    if (ready > 0) {
      char key = 0;
      if (::read(STDIN_FILENO, &key, 1) == 1 && (key == 'q' || key == 'Q'))
        return true;
      if (p.revents & (POLLHUP | POLLERR))
        keys = false;  // no more keys will come; keep watching
    }
  }
  return true;
}

// ---------------------------------------------------------------------------
// What is shown
// ---------------------------------------------------------------------------

struct Sample {
  Clock::time_point when;
  std::map<std::string, std::string> status;
  std::optional<std::string> error;  // the daemon did not answer
};

std::uint64_t number(const Sample& s, const std::string& key) {
  auto it = s.status.find(key);
  return it == s.status.end() ? 0 : std::strtoull(it->second.c_str(), nullptr, 10);
}

std::string value(const Sample& s, const std::string& key) {
  auto it = s.status.find(key);
  return it == s.status.end() ? "?" : it->second;
}

// Per second between two samples of the same daemon (a restart resets its
// counters: no rate across it).
double rate(const Sample& from, const Sample& to, const std::string& key) {
  const double seconds = std::chrono::duration<double>(to.when - from.when).count();
  const std::uint64_t a = number(from, key), b = number(to, key);
  return seconds > 0 && b >= a ? static_cast<double>(b - a) / seconds : 0;
}

std::string human(double per_second) {
  char text[32];
  const char* units[] = {"B/s", "KiB/s", "MiB/s", "GiB/s"};
  int unit = 0;
  while (per_second >= 1024 && unit < 3) {
    per_second /= 1024;
    ++unit;
  }
  std::snprintf(text, sizeof text, unit == 0 ? "%.0f %s" : "%.1f %s", per_second, units[unit]);
  return text;
}

bool utf8_terminal() {
  for (const char* name : {"LC_ALL", "LC_CTYPE", "LANG"}) {
    const char* v = std::getenv(name);
    if (v && *v) {
      std::string s(v);
      std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      return s.find("utf-8") != std::string::npos || s.find("utf8") != std::string::npos;
    }
  }
  return false;
}

// The last minute, scaled to its own peak: block elements on a UTF-8
// terminal, ASCII elsewhere.
std::string sparkline(const std::deque<double>& values, std::size_t width) {
  static const std::vector<std::string> blocks{" ", "\u2581", "\u2582", "\u2583", "\u2584",
                                               "\u2585", "\u2586", "\u2587", "\u2588"};
  static const std::vector<std::string> ascii{" ", ".", ":", "-", "=", "+", "*", "#", "@"};
  const auto& levels = utf8_terminal() ? blocks : ascii;
  const double peak = values.empty() ? 0 : *std::max_element(values.begin(), values.end());
  std::string line;
  const std::size_t skip = values.size() > width ? values.size() - width : 0;
  for (std::size_t i = skip; i < values.size(); ++i) {
    const auto level = peak > 0 ? static_cast<std::size_t>(values[i] / peak * 8.0 + 0.5) : 0;
    line += levels[std::min<std::size_t>(level, 8)];
  }
  return line;
}

struct History {
  std::deque<double> served, tested;
  void add(double s, double t) {
    served.push_back(s);
    tested.push_back(t);
    if (served.size() > kHistory) {
      served.pop_front();
      tested.pop_front();
    }
  }
};

std::string clock_text() {
  const std::time_t now = std::time(nullptr);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S", std::localtime(&now));
  return text;
}

std::string screen(const Client& client, const Sample& now, double served, double tested, const History& history) {
  const std::size_t width = static_cast<std::size_t>(std::clamp(terminal_width() - 24, 10, 60));
  std::string out = "\x1b[H";
  auto line = [&](const std::string& text) { out += text + "\x1b[K\r\n"; };
  line("rngpool watch  " + client.socket_path() + "  " + clock_text() + "   (q quits)");
  line("");
  if (now.error) {
    line("daemon:   unreachable: " + *now.error);
    line("          retrying every second");
    out += "\x1b[J";
    return out;
  }
  line("health:   " + value(now, "health"));
  line("state:    " + value(now, "state") + "    hwrng: " + value(now, "hwrng") + " " + value(now, "hwrng_state") +
       "    in key: " + value(now, "hwrng_in_key"));
  line("");
  line("served:   " + human(served) + "    (" + value(now, "bytes_served") + " bytes, " +
       value(now, "requests_served") + " requests)");
  line("          [" + sparkline(history.served, width) + "]");
  line("tested:   " + human(tested) + "    (" + value(now, "hwrng_bytes_tested") + " hwrng bytes, " +
       value(now, "hwrng_bytes_used") + " used)");
  line("          [" + sparkline(history.tested, width) + "]");
  line("");
  line("failures: rct " + value(now, "rct_failures") + "  apt " + value(now, "apt_failures") + "  (intermittent " +
       value(now, "intermittent_failures") + ", permanent " + value(now, "permanent_failures") + ")");
  line("reseeds:  " + value(now, "reseeds") + "  (" + value(now, "reseeds_with_hwrng") + " with hwrng input)");
  line("clients:  " + value(now, "clients_connected") + " connected, " + value(now, "requests_refused") +
       " requests refused, " + value(now, "connections_refused") + " connections refused");
  line("uptime:   " + value(now, "uptime_s") + " s    rngpoold " + value(now, "version"));
  out += "\x1b[J";
  return out;
}

std::string one_line(const Sample& now, double served, double tested) {
  if (now.error)
    return clock_text() + " unreachable: " + *now.error;
  return clock_text() + " " + value(now, "health") + " | hwrng " + value(now, "hwrng_state") + " | served " +
         human(served) + " | tested " + human(tested) + " | rct " + value(now, "rct_failures") + " apt " +
         value(now, "apt_failures") + " | reseeds " + value(now, "reseeds") + " | clients " +
         value(now, "clients_connected");
}

// A STATUS, or why there is none.  A daemon that went away is asked again
// through a fresh connection each second, so a restart shows as a gap.
Sample sample(std::optional<Client>& client, const std::string& socket) {
  Sample s{Clock::now(), {}, std::nullopt};
  try {
    if (!client)
      client.emplace(socket);
    for (auto& [key, text] : client->status())
      s.status[key] = text;
  } catch (const std::exception& e) {
    s.error = e.what();
    client.reset();
  }
  return s;
}

}  // namespace

int watch(const Client& first) {
  const bool tty = ::isatty(STDOUT_FILENO);
  catch_stop_signals();
  std::optional<Screen> screen_guard;
  if (tty)
    screen_guard.emplace();
  const bool keys = tty && ::isatty(STDIN_FILENO);
  std::optional<Client> client(first);
  History history;
  std::optional<Sample> previous;
  auto next = Clock::now();
  do {
    const Sample now = sample(client, first.socket_path());
    double served = 0, tested = 0;
    if (previous && !previous->error && !now.error) {
      served = rate(*previous, now, "bytes_served");
      tested = rate(*previous, now, "hwrng_bytes_tested");
    }
    history.add(served, tested);
    put(tty ? screen(first, now, served, tested, history) : one_line(now, served, tested) + "\n");
    previous = now;
    next += 1s;
  } while (!wait_or_quit(next, keys));
  return kExitOk;
}

}  // namespace rngpool::cli
