#include "metrics/negotiation.hpp"

#include <optional>
#include <string>
#include <utility>

namespace rngpool::server::metrics {

namespace {

// ---------------------------------------------------------------------------
// Reading the header (RFC 9110 §5.6: tokens, quoted strings, lists)
// ---------------------------------------------------------------------------

// RFC 9110 §5.6.2 tchar.
bool is_tchar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
    return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

// Media types, parameter names and the charset value are case-insensitive
// (RFC 9110 §8.3.1, §8.3.2).
bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size())
    return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i]))
      return false;
  return true;
}

class Cursor {
 public:
  explicit Cursor(std::string_view text) : text_(text) {}

  bool done() const { return at_ == text_.size(); }
  bool next_is(char c) const { return !done() && text_[at_] == c; }
  bool eat(char c) {
    if (!next_is(c))
      return false;
    ++at_;
    return true;
  }
  // RFC 9110 §5.6.3 OWS.
  void skip_ows() {
    while (next_is(' ') || next_is('\t'))
      ++at_;
  }
  // RFC 9110 §5.6.2 token; empty when none is there.
  std::string_view token() {
    const std::size_t start = at_;
    while (!done() && is_tchar(text_[at_]))
      ++at_;
    return text_.substr(start, at_ - start);
  }
  // RFC 9110 §5.6.6 parameter-value: a token, or a quoted-string unquoted
  // (§5.6.4: qdtext and quoted-pairs).
  std::optional<std::string> value() {
    if (!eat('"')) {
      const std::string_view t = token();
      return t.empty() ? std::nullopt : std::optional<std::string>(t);
    }
    std::string out;
    for (;;) {
      if (done())
        return std::nullopt;
      const auto c = static_cast<unsigned char>(text_[at_++]);
      if (c == '"')
        return out;
      if (c == '\\') {
        if (done())
          return std::nullopt;
        const auto escaped = static_cast<unsigned char>(text_[at_++]);
        if (escaped != '\t' && (escaped < 0x20 || escaped == 0x7f))
          return std::nullopt;
        out += static_cast<char>(escaped);
        continue;
      }
      if (c != '\t' && (c < 0x20 || c == 0x7f))
        return std::nullopt;
      out += static_cast<char>(c);
    }
  }

 private:
  std::string_view text_;
  std::size_t at_ = 0;
};

// RFC 9110 §12.4.2 qvalue, in thousandths: "0" [ "." 0*3DIGIT ] or
// "1" [ "." 0*3("0") ].
std::optional<int> qvalue(std::string_view text) {
  if (text.empty() || (text[0] != '0' && text[0] != '1'))
    return std::nullopt;
  int value = text[0] == '1' ? 1000 : 0;
  if (text.size() == 1)
    return value;
  if (text[1] != '.' || text.size() > 5)
    return std::nullopt;
  int scale = 100;
  for (char c : text.substr(2)) {
    if (c < '0' || c > '9' || (value == 1000 && c != '0'))
      return std::nullopt;
    value += (c - '0') * scale;
    scale /= 10;
  }
  return value;
}

// ---------------------------------------------------------------------------
// Matching ranges against what /metrics offers
// ---------------------------------------------------------------------------

struct Offer {
  std::string_view type;
  std::string_view subtype;
  std::string_view version;  // and charset=utf-8, both
};
constexpr Offer kText{"text", "plain", "0.0.4"};
constexpr Offer kOpenMetrics{"application", "openmetrics-text", "1.0.0"};

// A media range as read: its type, and for each offer whether every
// parameter it names agrees with that offer's.
struct Range {
  std::string_view type;
  std::string_view subtype;
  int parameters = 0;
  bool agrees_with_text = true;
  bool agrees_with_openmetrics = true;
  int q = 1000;
};

bool agrees(const Offer& offer, std::string_view name, std::string_view value) {
  if (iequals(name, "version"))
    return value == offer.version;
  if (iequals(name, "charset"))
    return iequals(value, "utf-8");
  return false;  // a parameter neither format has: that range is for something else
}

// How specifically `range` names `offer`, RFC 9110 §12.5.1: a type over
// type/* over */*, then more parameters over fewer.  nullopt: no match.
using Specificity = std::pair<int, int>;

std::optional<Specificity> specificity(const Range& range, const Offer& offer, bool parameters_agree) {
  if (!parameters_agree)
    return std::nullopt;
  if (range.type == "*")
    return Specificity{0, range.parameters};
  if (!iequals(range.type, offer.type))
    return std::nullopt;
  if (range.subtype == "*")
    return Specificity{1, range.parameters};
  if (!iequals(range.subtype, offer.subtype))
    return std::nullopt;
  return Specificity{2, range.parameters};
}

// The offer's weight: the q of the most specific range matching it (the
// first of equally specific ones), 0 when none does.
struct Best {
  std::optional<Specificity> specificity;
  int q = 0;

  void consider(std::optional<Specificity> s, int q_of_range) {
    if (s && (!specificity || *s > *specificity)) {
      specificity = s;
      q = q_of_range;
    }
  }
};

// RFC 9110 §12.5.1 media-range with its parameters and weight; nullopt
// when it does not parse.  Parameters after q are RFC 7231's accept-ext:
// read, then ignored.
std::optional<Range> media_range(Cursor& in) {
  Range range;
  range.type = in.token();
  if (range.type.empty() || !in.eat('/'))
    return std::nullopt;
  range.subtype = in.token();
  if (range.subtype.empty() || (range.type == "*" && range.subtype != "*"))
    return std::nullopt;
  bool after_q = false;
  for (;;) {
    in.skip_ows();
    if (!in.eat(';'))
      return range;
    in.skip_ows();
    if (in.done() || in.next_is(';') || in.next_is(','))
      continue;  // an empty parameter, RFC 9110 §5.6.6
    const std::string_view name = in.token();
    if (name.empty() || !in.eat('='))
      return std::nullopt;
    if (!after_q && iequals(name, "q")) {
      const auto q = qvalue(in.token());
      if (!q)
        return std::nullopt;
      range.q = *q;
      after_q = true;
      continue;
    }
    const auto value = in.value();
    if (!value)
      return std::nullopt;
    if (after_q)
      continue;
    ++range.parameters;
    range.agrees_with_text = range.agrees_with_text && agrees(kText, name, *value);
    range.agrees_with_openmetrics = range.agrees_with_openmetrics && agrees(kOpenMetrics, name, *value);
  }
}

}  // namespace

Format negotiate(std::string_view accept) {
  Cursor in(accept);
  Best text;
  Best openmetrics;
  for (;;) {
    in.skip_ows();
    if (in.done())
      break;
    if (in.eat(','))
      continue;  // an empty list element, RFC 9110 §5.6.1
    const auto range = media_range(in);
    if (!range)
      return Format::text;
    in.skip_ows();
    if (!in.done() && !in.eat(','))
      return Format::text;
    text.consider(specificity(*range, kText, range->agrees_with_text), range->q);
    openmetrics.consider(specificity(*range, kOpenMetrics, range->agrees_with_openmetrics), range->q);
  }
  // Named, not reached through a wildcard: "*/*" keeps today's format.
  const bool named = openmetrics.specificity && openmetrics.specificity->first == 2;
  if (named && openmetrics.q > 0 && openmetrics.q >= text.q)
    return Format::openmetrics;
  return Format::text;
}

}  // namespace rngpool::server::metrics
