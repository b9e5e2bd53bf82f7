#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

namespace bazaar::edge {

/// Where the next page of a keyset-paginated list starts: the last row's sort key and id.
struct Cursor {
  std::string sort;  ///< which ordering the key belongs to, so a cursor cannot cross sorts
  std::string key;   ///< the last row's sort key, as text
  std::string id;    ///< the last row's id (a UUID), the tie-breaker
};

/// Keys cursors with `secret` (edge derives it from its JWT secret, so every instance reads the
/// cursors of the others); until called, a random key of this process. Call before serving.
void set_cursor_secret(std::string_view secret);

/// The opaque `next_cursor`: base64url (no padding) of a small JSON object, then `.` and a
/// truncated HMAC-SHA256 of it and of `scope`: a cursor cannot be edited into a key the
/// listing never gave. `scope` names the listing and every filter that shaped the page (see
/// cursor_scope); it is not in the text, only in the MAC.
std::string encode_cursor(const Cursor& cursor, std::string_view scope);

/// Reads a cursor back; nullopt for anything that `encode_cursor` did not produce with this
/// `scope` (another listing's or another filter's cursor, bad base64url, a wrong or missing
/// MAC, not JSON, missing fields, an id that is not a UUID, too long).
std::optional<Cursor> decode_cursor(std::string_view text, std::string_view scope);

/// A scope for encode_cursor/decode_cursor: the listing's name and its filters in order, an
/// absent filter distinct from an empty one. A page size is not part of it: a client may ask
/// for the next page in pages of another size.
std::string cursor_scope(std::string_view listing,
                         std::initializer_list<std::optional<std::string_view>> filters);

/// Page sizes of every list.
inline constexpr std::int64_t kDefaultPageSize = 20;
inline constexpr std::int64_t kMaxPageSize = 100;

/// The `?limit=` of a list: kDefaultPageSize when absent, else an integer in
/// 1..kMaxPageSize; nullopt when invalid.
std::optional<std::int64_t> parse_limit(const std::optional<std::string>& text);

}  // namespace bazaar::edge
