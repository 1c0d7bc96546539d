#include "rngpool/test/documents.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace rngpool::test {

std::string read_text_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path.native());
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string fenced_block(const std::string& markdown, std::string_view heading, std::string_view language) {
  const auto at = markdown.find(heading);
  if (at == std::string::npos) throw std::runtime_error("no heading \"" + std::string(heading) + "\"");
  const std::string fence = "```" + std::string(language) + "\n";
  const auto open = markdown.find(fence, at);
  const auto close = open == std::string::npos ? open : markdown.find("```", open + fence.size());
  if (close == std::string::npos)
    throw std::runtime_error("no complete " + fence.substr(0, fence.size() - 1) + " block after \"" +
                             std::string(heading) + "\"");
  return markdown.substr(open + fence.size(), close - open - fence.size());
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

bool has_line(const std::string& text, std::string_view line) {
  const auto lines = lines_of(text);
  return std::find(lines.begin(), lines.end(), line) != lines.end();
}

}  // namespace rngpool::test
