// The project's files as tests read them: whole text files (units, man
// pages, README), README's fenced code blocks, which tests run as written,
// and any text (a file, a reply, an exposition) as its lines.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace rngpool::test {

// The whole file; throws std::runtime_error naming it when it cannot be read.
std::string read_text_file(const std::filesystem::path& path);

// The body of the first ```<language> block after the line `heading` in
// `markdown`; throws std::runtime_error naming what is missing.
std::string fenced_block(const std::string& markdown, std::string_view heading, std::string_view language);

// The lines of `text`, without their '\n'.
std::vector<std::string> lines_of(const std::string& text);

// Whether one line of `text` is exactly `line`.
bool has_line(const std::string& text, std::string_view line);

}  // namespace rngpool::test
