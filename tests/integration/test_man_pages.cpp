// The man pages in man/ against the code they document: every option and
// command the binaries' --help prints has an entry with the same argument,
// default and numbers; every exit status is listed; the systemd units'
// Documentation= pages exist; groff has nothing to warn about; and
// `cmake --install` puts each page beside the binary it documents.
#include "rngpool/test/support.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cctype>
#include <functional>
#include <regex>
#include <set>
#include <sstream>
#include <vector>

using namespace rngpool::test;
namespace fs = std::filesystem;

namespace {

const fs::path kSourceDir = RNGPOOL_SOURCE_DIR;
const fs::path kManDir = kSourceDir / "man";

std::string collapse_spaces(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == ' ' || c == '\t' || c == '\n') {
      if (!out.empty() && out.back() != ' ')
        out += ' ';
    } else {
      out += c;
    }
  }
  while (!out.empty() && out.back() == ' ')
    out.pop_back();
  return out;
}

std::vector<std::string> all_matches(const std::string& text, const std::regex& pattern, int group = 1) {
  std::vector<std::string> found;
  for (std::sregex_iterator it(text.begin(), text.end(), pattern), end; it != end; ++it)
    found.push_back((*it)[group].str());
  return found;
}

// ---------------------------------------------------------------------------
// Reading roff
//
// Just enough of man(7) to get at what a reader sees: the text of a line
// with its font changes and escapes resolved, macro arguments split as troff
// splits them, and the alternating-font macros (.BR, .BI, ...) joining their
// arguments without spaces.
// ---------------------------------------------------------------------------

std::string roff_escapes(const std::string& text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\\' || i + 1 == text.size()) {
      out += text[i];
      continue;
    }
    char e = text[++i];
    if (e == 'f') {  // \fB, \fI, \fR, \fP: font changes
      ++i;
    } else if (e == '-' || e == 'e') {
      out += e == '-' ? '-' : '\\';
    } else if (e == ' ' || e == '~') {
      out += ' ';
    } else if (e == '&' || e == '%' || e == ':' || e == '|' || e == '^') {
    } else if (e == '(' && i + 2 < text.size()) {
      std::string name = text.substr(i + 1, 2);
      i += 2;
      if (name == "aq") out += '\'';
      else if (name == "dq") out += '"';
      else if (name == "ha") out += '^';
      else out += '?';
    } else {
      out += e;
    }
  }
  return out;
}

// A macro's arguments: separated by spaces, "quoted" ones may hold spaces.
std::vector<std::string> macro_arguments(const std::string& rest) {
  std::vector<std::string> arguments;
  std::size_t i = 0;
  while (i < rest.size()) {
    while (i < rest.size() && rest[i] == ' ')
      ++i;
    if (i == rest.size())
      break;
    std::string argument;
    if (rest[i] == '"') {
      for (++i; i < rest.size(); ++i) {
        if (rest[i] == '"' && i + 1 < rest.size() && rest[i + 1] == '"') {
          argument += '"';
          ++i;
        } else if (rest[i] == '"') {
          ++i;
          break;
        } else {
          argument += rest[i];
        }
      }
    } else {
      while (i < rest.size() && rest[i] != ' ')
        argument += rest[i++];
    }
    arguments.push_back(argument);
  }
  return arguments;
}

struct RoffLine {
  std::string macro;  // "" for a text line
  std::string text;   // what it shows
};

RoffLine parse_roff_line(const std::string& line) {
  if (line.empty() || (line[0] != '.' && line[0] != '\''))
    return {"", roff_escapes(line)};
  auto space = line.find(' ');
  std::string macro = line.substr(1, space == std::string::npos ? std::string::npos : space - 1);
  if (macro.starts_with("\\\""))
    return {"\\\"", ""};
  auto arguments = macro_arguments(space == std::string::npos ? "" : line.substr(space + 1));
  static const std::set<std::string> alternating{"BR", "RB", "BI", "IB", "IR", "RI"};
  std::string joined;
  for (const auto& argument : arguments) {
    if (!joined.empty() && !alternating.contains(macro))
      joined += ' ';
    joined += argument;
  }
  return {macro, roff_escapes(joined)};
}

// A .TP entry: its tag line and the paragraph under it, as a reader sees them.
struct Entry {
  std::string section;
  std::string tag;
  std::string body;
};

struct ManPage {
  fs::path path;
  std::string source;
  std::vector<Entry> entries;

  const Entry* find(const std::string& section, const std::function<bool(const std::string&)>& tag_matches) const {
    for (const auto& entry : entries)
      if ((section.empty() || entry.section == section) && tag_matches(entry.tag))
        return &entry;
    return nullptr;
  }
  std::set<std::string> tags_in(const std::string& section) const {
    std::set<std::string> tags;
    for (const auto& entry : entries)
      if (entry.section == section)
        tags.insert(entry.tag);
    return tags;
  }
};

ManPage read_man_page(const fs::path& path) {
  ManPage page{path, read_text_file(path), {}};
  static const std::set<std::string> breaks{"TP", "SH", "SS", "PP", "LP", "P", "IP", "HP", "RS", "RE"};
  std::string section;
  Entry* open = nullptr;
  bool want_tag = false;
  for (const auto& raw : lines_of(page.source)) {
    RoffLine line = parse_roff_line(raw);
    if (line.macro == "\\\"")
      continue;
    if (want_tag) {
      page.entries.push_back({section, collapse_spaces(line.text), ""});
      open = &page.entries.back();
      want_tag = false;
      continue;
    }
    if (breaks.contains(line.macro)) {
      open = nullptr;
      if (line.macro == "SH")
        section = collapse_spaces(line.text);
      want_tag = line.macro == "TP";
      continue;
    }
    if (open)
      open->body = collapse_spaces(open->body + " " + line.text);
  }
  return page;
}

// "-h, --help" has the names -h and --help; "--socket PATH" has --socket.
std::vector<std::string> option_names(const std::string& tag) {
  static const std::regex name(R"((?:^|, )(--?[A-Za-z0-9][A-Za-z0-9-]*))");
  return all_matches(tag, name);
}

bool tag_names(const std::string& tag, const std::string& option) {
  auto names = option_names(tag);
  return std::find(names.begin(), names.end(), option) != names.end();
}

// ---------------------------------------------------------------------------
// Reading --help
// ---------------------------------------------------------------------------

std::string help_of(const std::string& binary) {
  INFO("the binary under test is missing from this build");
  REQUIRE_FALSE(binary.empty());
  auto result = run_command(shell_quote(binary) + " --help");
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  REQUIRE_FALSE(result.out.empty());
  return result.out;
}

// rngpoold's option table (Boost.Program_options layout): "  --name ARG   text"
// and the text's continuation lines, indented further.
struct HelpOption {
  std::string name;      // "--socket"
  std::string argument;  // "PATH", or "" for a flag
  std::string text;      // the description, one line
};

std::vector<HelpOption> daemon_help_options(const std::string& help) {
  static const std::regex option_line(R"(^  (--[a-z][a-z-]*)( [^ ]+)?(?:  +(.*))?$)");
  static const std::regex continuation(R"(^ {4,}(\S.*)$)");
  std::vector<HelpOption> options;
  for (const auto& line : lines_of(help)) {
    std::smatch m;
    if (std::regex_match(line, m, option_line)) {
      std::string argument = m[2].str();
      options.push_back({m[1].str(), argument.empty() ? "" : argument.substr(1), m[3].str()});
    } else if (!options.empty() && std::regex_match(line, m, continuation)) {
      options.back().text += " " + m[1].str();
    }
  }
  for (auto& option : options)
    option.text = collapse_spaces(option.text);
  return options;
}

// The lines under a heading such as "Exit status:" up to the next blank line.
std::vector<std::string> help_block(const std::string& help, const std::string& heading) {
  std::vector<std::string> block;
  bool inside = false;
  for (const auto& line : lines_of(help)) {
    if (line.starts_with(heading)) {
      inside = true;
      block.push_back(line.substr(heading.size()));
      continue;
    }
    if (inside && line.empty())
      break;
    if (inside)
      block.push_back(line);
  }
  return block;
}

std::string joined(const std::vector<std::string>& lines) {
  std::string text;
  for (const auto& line : lines)
    text += line + "\n";
  return collapse_spaces(text);
}

// Every number in `text` ("0.1", "86400", "2" of getrandom(2)) must appear
// in `body` as a number of its own.
void check_numbers(const std::string& text, const std::string& body) {
  static const std::regex number(R"((?:^|[^0-9A-Za-z.]|\.\.)([0-9]+(?:\.[0-9]+)?)(?![0-9A-Za-z]))");
  for (const auto& value : all_matches(text, number)) {
    INFO("the number " << value << " of --help is missing from the man page entry: " << body);
    std::regex in_body(R"((^|[^0-9.]|\.\.))" + std::regex_replace(value, std::regex(R"(\.)"), R"(\.)") + "([^0-9]|$)");
    CHECK(std::regex_search(body, in_body));
  }
}

void check_exit_statuses(const ManPage& page, const std::set<std::string>& codes) {
  INFO(page.path);
  REQUIRE(codes.size() >= 2);
  CHECK(page.tags_in("EXIT STATUS") == codes);
}

}  // namespace

// ---------------------------------------------------------------------------
// (a) The pages cannot drift from --help
// ---------------------------------------------------------------------------

TEST_CASE("rngpoold.8 has an entry for every option of rngpoold --help with its argument and default",
          "[man]") {
  const std::string help = help_of(rngpoold_path());
  const ManPage page = read_man_page(kManDir / "rngpoold.8");
  const auto options = daemon_help_options(help);
  INFO(help);
  REQUIRE(options.size() >= 10);

  // Every --name anywhere in the help is an option with an entry.
  static const std::regex long_option(R"((--[a-z][a-z-]*))");
  for (const auto& name : all_matches(help, long_option)) {
    INFO(name << " is in rngpoold --help but has no .TP entry in rngpoold.8");
    CHECK(page.find("OPTIONS", [&](const std::string& tag) { return tag_names(tag, name); }) != nullptr);
  }

  static const std::regex default_in_help(R"(\(default ([^ ;,)]+))");
  static const std::regex default_in_page(R"([Dd]efault:? ([^ ]+?)[.,;:]?(?: |$))");
  for (const auto& option : options) {
    const std::string expected_tag = option.argument.empty() ? option.name : option.name + " " + option.argument;
    INFO("rngpoold --help: " << expected_tag << "  " << option.text);
    const Entry* entry = page.find("OPTIONS", [&](const std::string& tag) { return tag == expected_tag; });
    REQUIRE(entry != nullptr);
    INFO("rngpoold.8: " << entry->tag << ": " << entry->body);
    std::smatch help_default;
    if (std::regex_search(option.text, help_default, default_in_help)) {
      std::smatch page_default;
      REQUIRE(std::regex_search(entry->body, page_default, default_in_page));
      CHECK(page_default[1].str() == help_default[1].str());
    }
    // Ranges, limits and defaults alike: every number, and "(0, 8]".
    check_numbers(option.text, entry->body);
    static const std::regex interval(R"([(\[][0-9.]+, [0-9.]+[)\]])");
    for (const auto& range : all_matches(option.text, interval, 0))
      CHECK_THAT(entry->body, Catch::Contains(range));
  }
}

TEST_CASE("rngpoold.8 lists exactly the exit statuses of rngpoold --help", "[man]") {
  const std::string help = help_of(rngpoold_path());
  const std::string text = joined(help_block(help, "Exit status:"));
  INFO(text);
  static const std::regex code(R"((?:^|[:,] )([0-9]+) [a-z])");
  auto codes = all_matches(text, code);
  check_exit_statuses(read_man_page(kManDir / "rngpoold.8"), {codes.begin(), codes.end()});
}

TEST_CASE("rngpool.1 has an entry for every command and option of rngpool --help", "[man]") {
  const std::string help = help_of(rngpool_cli_path());
  const ManPage page = read_man_page(kManDir / "rngpool.1");
  INFO(help);

  // Commands: "  hex [N]          N random bytes (default 32) as ..."
  static const std::regex command_line(R"(^  ([a-z][a-z0-9]*((?: \[?[A-Z]+\]?)*))  +(.*)$)");
  std::size_t commands = 0;
  for (const auto& line : help_block(help, "Commands:")) {
    std::smatch m;
    if (!std::regex_match(line, m, command_line))
      continue;
    ++commands;
    const std::string usage = m[1].str(), text = m[3].str();
    INFO("rngpool --help: " << line);
    const Entry* entry = page.find("COMMANDS", [&](const std::string& tag) { return tag == usage; });
    REQUIRE(entry != nullptr);
    static const std::regex default_in_help(R"(\(default [^)]+\))");
    for (const auto& given : all_matches(text, default_in_help, 0))
      CHECK_THAT(entry->body, Catch::Contains(given));
  }
  CHECK(commands >= 10);

  // Options: every --name and -x anywhere in the help, argument and default
  // as in "--length L (20)".
  static const std::regex long_option(R"((--[a-z][a-z-]*))");
  static const std::regex short_option(R"(^  (-[A-Za-z]),)");
  auto names = all_matches(help, long_option);
  for (const auto& line : lines_of(help))
    for (const auto& name : all_matches(line, short_option))
      names.push_back(name);
  REQUIRE(names.size() >= 10);
  for (const auto& name : names) {
    INFO(name << " is in rngpool --help but has no .TP entry in rngpool.1");
    CHECK(page.find("", [&](const std::string& tag) { return tag_names(tag, name); }) != nullptr);
  }
  static const std::regex with_argument(R"((--[a-z][a-z-]*) ([A-Z]+)(?: \(([^)]*)\))?(?= |$))");
  for (const auto& line : lines_of(help)) {
    for (std::sregex_iterator it(line.begin(), line.end(), with_argument), end; it != end; ++it) {
      const std::string usage = (*it)[1].str() + " " + (*it)[2].str();
      INFO("rngpool --help: " << line);
      const Entry* entry = page.find("", [&](const std::string& tag) { return tag == usage; });
      REQUIRE(entry != nullptr);
      if ((*it)[3].matched) {
        std::string value = (*it)[3].str();
        // (" ") reads better as words.
        CHECK_THAT(entry->body, Catch::Contains("(default " + (value == "\" \"" ? "one space" : value)));
      }
    }
  }

  // $RNGPOOL_SOCKET and the like.
  static const std::regex variable(R"(\$([A-Z][A-Z0-9_]*))");
  for (const auto& name : all_matches(help, variable)) {
    INFO("$" << name << " is in rngpool --help but not under ENVIRONMENT in rngpool.1");
    CHECK(page.tags_in("ENVIRONMENT").contains(name));
  }
}

TEST_CASE("rngpool.1 lists exactly the exit statuses of rngpool --help", "[man]") {
  const std::string help = help_of(rngpool_cli_path());
  static const std::regex code(R"(^  ([0-9]+)  )");
  std::set<std::string> codes;
  for (const auto& line : help_block(help, "Exit status:"))
    for (const auto& found : all_matches(line, code))
      codes.insert(found);
  INFO(help);
  check_exit_statuses(read_man_page(kManDir / "rngpool.1"), codes);
}

// ---------------------------------------------------------------------------
// (b) Documentation=man:... in the units names pages that exist
// ---------------------------------------------------------------------------

TEST_CASE("every man page of ours that a systemd unit names exists in man/", "[man][systemd]") {
  static const std::regex reference(R"(man:([A-Za-z0-9_.@-]+)\(([0-9][a-z]*)\))");
  std::set<std::string> ours;
  for (const auto& file : fs::recursive_directory_iterator(kSourceDir / "systemd")) {
    if (!file.is_regular_file())
      continue;
    const std::string text = read_text_file(file.path());
    for (std::sregex_iterator it(text.begin(), text.end(), reference), end; it != end; ++it) {
      // Ours: the project's programs and library, rngpool*.
      if ((*it)[1].str().starts_with("rngpool"))
        ours.insert((*it)[1].str() + "." + (*it)[2].str());
    }
  }
  INFO("no man:rngpool...(N) reference in systemd/: the units' Documentation= lines changed?");
  REQUIRE_FALSE(ours.empty());
  for (const auto& page : ours) {
    INFO("a unit names " << page << ", which is not in man/");
    CHECK(fs::is_regular_file(kManDir / page));
  }
}

// ---------------------------------------------------------------------------
// (c) The pages are clean roff
// ---------------------------------------------------------------------------

std::vector<fs::path> man_pages() {
  std::vector<fs::path> pages;
  static const std::regex page_name(R"([A-Za-z0-9_.-]+\.[1-8])");
  for (const auto& file : fs::directory_iterator(kManDir))
    if (std::regex_match(file.path().filename().native(), page_name))
      pages.push_back(file.path());
  std::sort(pages.begin(), pages.end());
  return pages;
}

TEST_CASE("groff prints no warning for any man page", "[man]") {
  // scripts/deps.sh installs groff-base; without it this fails, not skips.
  INFO("groff is missing: install the groff-base package");
  REQUIRE(run_command("command -v groff").exit_code == 0);
  auto pages = man_pages();
  REQUIRE(pages.size() >= 2);
  for (const auto& page : pages) {
    // The default device, and a terminal 80 columns wide as man(1) renders.
    for (const char* device : {"", " -Tutf8 -rLL=78n"}) {
      auto result = run_command(std::string("groff -man -ww -z -t") + device + " " + shell_quote(page.native()));
      INFO(page << device << ": " << result.err);
      CHECK(result.exit_code == 0);
      CHECK(result.out == "");
      CHECK(result.err == "");
    }
  }
}

TEST_CASE("each man page's .TH names its own file", "[man]") {
  for (const auto& page : man_pages()) {
    const std::string name = page.stem().native(), section = page.extension().native().substr(1);
    std::string upper = name;
    std::transform(upper.begin(), upper.end(), upper.begin(), [](unsigned char c) { return std::toupper(c); });
    INFO(page);
    CHECK(std::regex_search(read_text_file(page), std::regex("(^|\n)\\.TH " + upper + " " + section + " ")));
  }
}

// ---------------------------------------------------------------------------
// Installation
// ---------------------------------------------------------------------------

TEST_CASE("cmake --install puts rngpool.1 with the client and rngpoold.8 with the daemon", "[man][install]") {
  const fs::path mandir = RNGPOOL_INSTALL_MANDIR;
  auto install = [](const std::string& component, const TempDir& root) {
    auto result = run_command("DESTDIR=" + shell_quote(root.path().native()) + " cmake --install " +
                              shell_quote(RNGPOOL_BUILD_DIR) + " --component " + component);
    INFO(result.out << result.err);
    REQUIRE(result.exit_code == 0);
  };
  auto installed = [](const TempDir& root, const fs::path& path) {
    return fs::is_regular_file(root.path() / path.relative_path());
  };

  TempDir client("rngpool-man-client");
  install("client", client);
  CHECK(installed(client, mandir / "man1" / "rngpool.1"));
  CHECK_FALSE(installed(client, mandir / "man8" / "rngpoold.8"));

  TempDir daemon("rngpool-man-daemon");
  install("Unspecified", daemon);
  CHECK(installed(daemon, mandir / "man8" / "rngpoold.8"));
  CHECK_FALSE(installed(daemon, mandir / "man1" / "rngpool.1"));
}
