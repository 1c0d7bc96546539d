// A private temporary directory, removed with everything in it.
#pragma once

#include <filesystem>
#include <string_view>

namespace rngpool::test {

class TempDir {
 public:
  // Kept short: Unix socket paths inside it must fit sun_path (108 bytes).
  explicit TempDir(std::string_view prefix = "rngpool-test");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace rngpool::test
