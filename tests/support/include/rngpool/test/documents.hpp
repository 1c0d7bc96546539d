// The project's files as tests read them: whole text files (units, man
// pages, README), and README's fenced code blocks, which tests run as written.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace rngpool::test {

// The whole file; throws std::runtime_error naming it when it cannot be read.
std::string read_text_file(const std::filesystem::path& path);

// The body of the first ```<language> block after the line `heading` in
// `markdown`; throws std::runtime_error naming what is missing.
std::string fenced_block(const std::string& markdown, std::string_view heading, std::string_view language);

}  // namespace rngpool::test
