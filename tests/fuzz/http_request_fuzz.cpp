// An HTTP/1.1 request as the edge's transport hands it over (request line, headers, body),
// turned into an HttpRequest the way HttpSession::on_request does and answered by the Router
// with every real route registered. The database is unreachable, so a request that gets past
// its checks ends in 503; everything else must end in a 1xx-4xx answer or that 503, never in
// an exception the server would turn into a 500. The pure parts the routes use (URL, query,
// JSON body, Prefer, cursor, limit, money) are checked for their own invariants on the way.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "api.hpp"
#include "catalog/money.hpp"
#include "events/uuid.hpp"
#include "fuzz_check.hpp"
#include "http/cursor.hpp"
#include "http/prefer.hpp"
#include "http/problem.hpp"
#include "http/request_body.hpp"
#include "http/url_codec.hpp"

using namespace bazaar;
using namespace bazaar::edge;
using bazaar::fuzz::require;

namespace {

const std::string kSecret = "fuzzing-secret-0123456789abcdef-0123456789";
constexpr auto kTokenTime = std::chrono::seconds{1'700'000'000};

// Everything register_api needs, built once: the routes read their static files at start.
struct Api {
  events::ManualClock clock{events::Clock::time_point{kTokenTime}};
  events::ManualClock token_clock{events::Clock::time_point{kTokenTime}};
  events::UuidV7Generator ids{clock, [n = std::uint64_t{0}]() mutable { return ++n; }};
  events::EnvelopeFactory factory{
      "edge", clock, ids, [n = std::uint64_t{0}]() mutable { return ++n * 0x9e3779b97f4a7c15ULL; }};
  events::SchemaRegistry schemas{BAZAAR_SOURCE_ROOT "/schemas"};
  // Nothing listens on port 1: every query fails to connect, as with PostgreSQL down.
  EdgeDb db{"postgresql://nobody@127.0.0.1:1/none", 1, schemas};
  OrderWaiters waiters{clock, 1};
  ApiContext context{db, schemas, factory, clock, waiters};
  TokenService tokens{{.secret = kSecret}, token_clock};
  Router router{[this](const HttpRequest& r) { return authenticate(r); }};

  Api() {
    ApiSettings settings;
    settings.passwords = PasswordParams::for_tests();
    settings.docs = {BAZAAR_SOURCE_ROOT "/schemas/openapi.yaml", BAZAAR_SWAGGER_UI_DIR};
    settings.dashboard = {BAZAAR_CHART_JS_DIR};
    register_api(router, context, tokens, settings, [] { return true; });
  }

  // The token alone decides: the role a token claims is taken as the database would confirm
  // it, so the routes behind every role are reached.
  std::optional<Principal> authenticate(const HttpRequest& r) const {
    const std::string header = r.header("authorization");
    if (header.size() < 7) return std::nullopt;
    std::string scheme = header.substr(0, 7);
    std::transform(scheme.begin(), scheme.end(), scheme.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (scheme != "bearer ") return std::nullopt;
    auto who = tokens.verify(header.substr(7));
    if (!who || !events::Uuid::parse(who->user_id)) return std::nullopt;
    return who;
  }
};

// The parts of a request as Beast's parser delivers them; nullopt where Beast answers 400
// before any of our code runs.
struct RawRequest {
  std::string method;
  std::string target;
  std::vector<std::pair<std::string, std::string>> fields;
  std::string body;
};

bool is_token_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

std::string_view next_line(std::string_view& text) {
  const auto eol = text.find('\n');
  std::string_view line = text.substr(0, eol);
  text = eol == std::string_view::npos ? std::string_view{} : text.substr(eol + 1);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

std::optional<RawRequest> parse_raw(std::string_view text) {
  RawRequest raw;
  const std::string_view start = next_line(text);
  const auto sp1 = start.find(' ');
  const auto sp2 = start.rfind(' ');
  if (sp1 == std::string_view::npos || sp1 == sp2) return std::nullopt;
  raw.method = std::string(start.substr(0, sp1));
  raw.target = std::string(start.substr(sp1 + 1, sp2 - sp1 - 1));
  if (raw.method.empty() || raw.target.empty() ||
      !std::all_of(raw.method.begin(), raw.method.end(), is_token_char)) {
    return std::nullopt;
  }
  for (const char c : raw.target) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return std::nullopt;
  }
  for (;;) {
    if (text.empty()) return std::nullopt;  // no end of the header section
    const std::string_view line = next_line(text);
    if (line.empty()) break;
    const auto colon = line.find(':');
    if (colon == 0 || colon == std::string_view::npos) return std::nullopt;
    const std::string_view name = line.substr(0, colon);
    if (!std::all_of(name.begin(), name.end(), is_token_char)) return std::nullopt;
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
      value.remove_prefix(1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
    for (const char c : value) {
      const auto u = static_cast<unsigned char>(c);
      if ((u < 0x20 && c != '\t') || u == 0x7f) return std::nullopt;
    }
    raw.fields.emplace_back(std::string(name), std::string(value));
  }
  raw.body = std::string(text);
  return raw;
}

std::string percent_encode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) != 0 || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(c);
    } else {
      out += {'%', kHex[u >> 4], kHex[u & 15]};
    }
  }
  return out;
}

// A decoded path or query encodes back to text that decodes to the same.
void check_url(const TargetParts& parts, const std::string& path,
               const std::multimap<std::string, std::string>& query) {
  require(percent_decode(percent_encode(path)) == path, "a decoded path re-encodes");
  if (parts.path.find_first_of("%") == std::string_view::npos) {
    require(path == parts.path, "a path without escapes decodes to itself");
  }
  std::string again;
  for (const auto& [name, value] : query) {
    if (!again.empty()) again.push_back('&');
    again += percent_encode(name) + "=" + percent_encode(value);
  }
  require(parse_query(again) == query, "decoded query parameters re-encode");
}

void check_money(const std::optional<std::string>& text) {
  if (!text) return;
  const auto minor = parse_minor(*text);
  if (!minor) return;
  require(*minor >= 0 && *minor <= kMaxMajorAmount * 100, "an amount is within bounds");
  const auto json = from_minor(*minor);
  require(to_minor(json) == minor, "an amount survives from_minor and to_minor");
  require(parse_minor(to_json_text(json)) == minor, "an amount survives its JSON text");
}

void check_pure_parts(const HttpRequest& request) {
  if (const auto wait = prefer_wait(request.header("prefer"))) {
    require(*wait >= 0 && *wait <= kMaxPreferWaitSeconds, "Prefer: wait is capped");
  }
  if (const auto limit = parse_limit(request.param("limit"))) {
    require(*limit >= 1 && *limit <= kMaxPageSize, "a page size is within bounds");
  }
  if (const auto text = request.param("cursor")) {
    const std::string scope = cursor_scope("fuzz", {request.param("q")});
    if (const auto cursor = decode_cursor(*text, scope)) {
      const auto again = decode_cursor(encode_cursor(*cursor, scope), scope);
      require(again && again->sort == cursor->sort && again->key == cursor->key &&
                  again->id == cursor->id,
              "a cursor survives encode and decode");
    }
  }
  check_money(request.param("min_price"));
  check_money(request.param("max_price"));

  const JsonBody body = parse_json_body(request);
  if (body.error) {
    const int status = body.error->status;
    require(status == 400 || status == 415 || status == 422, "a bad body is a 4xx problem");
    return;
  }
  if (const auto* price = body.object.if_contains("price")) {
    if (const auto minor = to_minor(*price)) {
      require(to_minor(from_minor(*minor)) == minor, "a price survives from_minor");
    }
  }
  FieldCheck check(body.object);
  check.optional_string("name");
  check.optional_int("quantity", 1, 1000);
  if (!check.ok()) require(check.problem().status == 422, "invalid fields are a 422");
}

// An answer the server may send: a status it can write, never 500, and a problem document
// that says the same status.
void check_response(const HttpResponse& response) {
  require(response.status >= 100 && response.status <= 599, "a status is a valid HTTP status");
  require(response.status < 500 || response.status == 503, "no 5xx but 503 without a database");
  if (response.content_type != "application/problem+json") return;
  boost::system::error_code ec;
  const auto doc = boost::json::parse(response.body, ec);
  require(!ec && doc.is_object(), "a problem is a JSON object");
  const auto* status = doc.get_object().if_contains("status");
  require(status != nullptr && status->is_int64() && status->get_int64() == response.status,
          "a problem names its status");
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  spdlog::set_level(spdlog::level::off);  // a log line per refused connection slows the run
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Api api;
  const auto raw = parse_raw(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!raw) return 0;

  // As HttpSession::on_request: a target that does not decode is a 400 there.
  const auto parts = split_target(raw->target);
  const auto path = percent_decode(parts.path);
  const auto query = parse_query(parts.query);
  if (!path || !query) return 0;
  check_url(parts, *path, *query);

  HttpRequest request;
  request.method = raw->method == "HEAD" ? "GET" : raw->method;
  request.target = raw->target;
  request.path = *path;
  request.query = *query;
  for (const auto& [field, value] : raw->fields) {
    std::string name = field;
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    auto [it, inserted] = request.headers.emplace(std::move(name), value);
    if (!inserted) it->second += ", " + value;
  }
  request.body = raw->body;
  request.remote = "192.0.2.1";
  check_pure_parts(request);

  // Sign-in routes allow a burst per client and then refill with time: a minute passes
  // between two requests, so each one is judged on its own. Tokens keep their own clock.
  api.clock.advance(std::chrono::minutes{1});
  if (api.clock.now() > events::Clock::time_point{kTokenTime + std::chrono::years{10}}) {
    api.clock.set(events::Clock::time_point{kTokenTime});  // far from where time overflows
  }
  HttpResponse response;
  try {
    response = api.router.handle(request);
  } catch (const DependencyUnavailable& e) {
    response = problem(503, "Service Unavailable", e.what());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s %s threw: %s\n", request.method.c_str(), request.path.c_str(),
                 e.what());
    require(false, "a route answers instead of throwing (the server would send 500)");
  }
  check_response(response);
  return 0;
}
