// Which format an Accept header gets (issue 15 §1: OpenMetrics when the
// scraper asks for it): RFC 9110 §12.5.1 media ranges and q weights, the
// most specific range deciding, OpenMetrics only when named and weighted
// at least as high as the text format 0.0.4, and 0.0.4 for everything
// else, a header that does not parse included.
#include "metrics/negotiation.hpp"

#include <catch2/catch.hpp>

#include <string>

using rngpool::server::metrics::Format;
using rngpool::server::metrics::negotiate;

namespace {

// What Debian 12's prometheus 2.42 sends by default.
constexpr const char* kPrometheus =
    "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,"
    "text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

}  // namespace

TEST_CASE("Prometheus' own Accept gets OpenMetrics", "[metrics][negotiation]") {
  CHECK(negotiate(kPrometheus) == Format::openmetrics);
  // The order of the list does not matter, only the weights.
  CHECK(negotiate("*/*;q=0.1,text/plain;version=0.0.4;q=0.5,application/openmetrics-text;version=1.0.0") ==
        Format::openmetrics);
}

TEST_CASE("No Accept, a wildcard, or a text/plain ask gets the text format 0.0.4", "[metrics][negotiation]") {
  CHECK(negotiate("") == Format::text);
  CHECK(negotiate("*/*") == Format::text);  // curl, browsers: a wildcard is not asking for OpenMetrics
  CHECK(negotiate("application/*") == Format::text);
  CHECK(negotiate("text/plain") == Format::text);
  CHECK(negotiate("text/plain;version=0.0.4") == Format::text);
  CHECK(negotiate("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8") == Format::text);
}

TEST_CASE("OpenMetrics is chosen when named with a q at least the text format's", "[metrics][negotiation]") {
  CHECK(negotiate("application/openmetrics-text") == Format::openmetrics);
  CHECK(negotiate("application/openmetrics-text; version=1.0.0") == Format::openmetrics);
  CHECK(negotiate("application/openmetrics-text;version=\"1.0.0\";charset=UTF-8") == Format::openmetrics);
  CHECK(negotiate("Application/OpenMetrics-Text;Version=1.0.0") == Format::openmetrics);  // case-insensitive names
  // A tie goes to OpenMetrics.
  CHECK(negotiate("text/plain;version=0.0.4;q=0.5,application/openmetrics-text;q=0.5") == Format::openmetrics);
  CHECK(negotiate("*/*,application/openmetrics-text") == Format::openmetrics);
  // Weighted below the text format: 0.0.4.
  CHECK(negotiate("text/plain;version=0.0.4,application/openmetrics-text;version=1.0.0;q=0.999") == Format::text);
  CHECK(negotiate("*/*,application/openmetrics-text;q=0.5") == Format::text);
  CHECK(negotiate("text/*;q=0.6,application/openmetrics-text;q=0.5") == Format::text);
}

TEST_CASE("The most specific range gives each format its q", "[metrics][negotiation]") {
  // text/plain;version=0.0.4 at 0.2 overrides text/plain and */* at 1.
  CHECK(negotiate("*/*,text/plain,text/plain;version=0.0.4;q=0.2,application/openmetrics-text;q=0.3") ==
        Format::openmetrics);
  // A text/plain of another version does not speak for 0.0.4: */* does (1).
  CHECK(negotiate("text/plain;version=0.0.3;q=0.1,*/*,application/openmetrics-text;q=0.9") == Format::text);
  // OpenMetrics refused by name even though */* would take it.
  CHECK(negotiate("application/openmetrics-text;q=0,*/*") == Format::text);
  CHECK(negotiate("application/openmetrics-text;version=1.0.0;q=0,application/openmetrics-text;q=1") ==
        Format::text);
  // The text format refused: OpenMetrics, named, wins at any q above 0.
  CHECK(negotiate("text/plain;q=0,application/openmetrics-text;q=0.001") == Format::openmetrics);
}

TEST_CASE("Ranges for another version or with unknown parameters do not select OpenMetrics",
          "[metrics][negotiation]") {
  CHECK(negotiate("application/openmetrics-text;version=0.0.1") == Format::text);
  CHECK(negotiate("application/openmetrics-text;version=2.0.0") == Format::text);
  CHECK(negotiate("application/openmetrics-text;charset=latin1") == Format::text);
  CHECK(negotiate("application/openmetrics-text;escaping=underscores") == Format::text);
  CHECK(negotiate("application/openmetrics-text;q=0") == Format::text);  // both refused: 0.0.4 all the same
}

TEST_CASE("List and parameter syntax is read as RFC 9110 writes it", "[metrics][negotiation]") {
  CHECK(negotiate(" , application/openmetrics-text ,, ") == Format::openmetrics);  // empty elements, OWS
  CHECK(negotiate("application/openmetrics-text;;version=1.0.0;") == Format::openmetrics);  // empty parameters
  CHECK(negotiate("application/openmetrics-text\t;\tq=1.000") == Format::openmetrics);
  CHECK(negotiate("application/openmetrics-text;q=0.5;ext=\"a,b\",text/plain;q=0.4") == Format::openmetrics);
  CHECK(negotiate("application/openmetrics-text;version=\"1.0.\\0\"") == Format::openmetrics);  // quoted-pair
  CHECK(negotiate("application/openmetrics-text;Q=1,text/plain;q=0.5") == Format::openmetrics);
}

TEST_CASE("A malformed Accept falls back to the text format 0.0.4", "[metrics][negotiation]") {
  const char* malformed[] = {
      "application/openmetrics-text;q=2",
      "application/openmetrics-text;q=1.5",
      "application/openmetrics-text;q=0.0001",
      "application/openmetrics-text;q=.5",
      "application/openmetrics-text;q=\"1\"",
      "application/openmetrics-text;q=",
      "application/openmetrics-text;q = 1",
      "application/openmetrics-text;version",
      "application/openmetrics-text;version=\"1.0.0",
      "application/openmetrics-text;version=1.0.0 x",
      "application/openmetrics-text/x",
      "application",
      "/openmetrics-text",
      "*/openmetrics-text",
      "application/openmetrics-text;ver sion=1",
      "application/openmetrics-text;version=\"1.0.0\x01\"",
      "application/openmetrics-text, text/plain;q=0.5, @",
  };
  for (const char* accept : malformed) {
    INFO(accept);
    CHECK(negotiate(accept) == Format::text);
  }
}

TEST_CASE("A long Accept is read in one pass", "[metrics][negotiation]") {
  std::string accept;
  for (int i = 0; i < 1000; ++i)
    accept += "text/html;level=" + std::to_string(i) + ";q=0.1, ";
  CHECK(negotiate(accept + "application/openmetrics-text") == Format::openmetrics);
  CHECK(negotiate(accept + "application/openmetrics-text;version=\"") == Format::text);
}
