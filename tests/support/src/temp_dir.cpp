#include "rngpool/test/temp_dir.hpp"

#include <stdlib.h>

#include <cerrno>
#include <string>
#include <system_error>

namespace rngpool::test {

TempDir::TempDir(std::string_view prefix) {
  // A long $TMPDIR would push socket paths past sun_path's 108 bytes.
  std::filesystem::path base = std::filesystem::temp_directory_path();
  if (base.native().size() > 48) base = "/tmp";
  std::string pattern = (base / (std::string(prefix) + "-XXXXXX")).native();
  if (mkdtemp(pattern.data()) == nullptr)
    throw std::system_error(errno, std::generic_category(), "mkdtemp " + pattern);
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

}  // namespace rngpool::test
