#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/cursor.hpp"
#include "http/http_types.hpp"

namespace bazaar::edge {

/// The orderings `GET /products?sort=` offers; each is a fixed SQL fragment.
enum class ProductSort { kNewest, kPriceAscending, kPriceDescending, kName };

/// A validated product search: what `GET /products` and `GET /sellers/me/products` run.
struct ProductQuery {
  std::optional<std::string> text;      ///< `q`: case-insensitive substring of name or description
  std::optional<std::string> category;  ///< exact category
  std::optional<std::int64_t> min_price;  ///< minor units, inclusive
  std::optional<std::int64_t> max_price;  ///< minor units, inclusive
  std::optional<std::string> seller_id;   ///< canonical lower-case UUID
  ProductSort sort = ProductSort::kNewest;
  std::int64_t limit = kDefaultPageSize;
  std::optional<Cursor> after;  ///< start after this row (keyset pagination)
};

/// A parsed query, or the problem to answer instead: 422 naming each invalid parameter, 400
/// for a cursor that is not one of ours or belongs to another sort.
struct ProductQueryParse {
  ProductQuery query;
  std::optional<HttpResponse> error;
};
/// `own_seller` is set for a seller's own listing: it replaces whatever `seller` says.
ProductQueryParse parse_product_query(const HttpRequest& request,
                                      const std::optional<std::string>& own_seller = std::nullopt);

/// The `sort` parameter's spelling of an ordering (also the cursor's sort tag).
std::string_view sort_name(ProductSort sort);

/// A statement assembled only from fixed fragments; every value that came from the request
/// is a named parameter, bound as text and cast in SQL.
struct BoundSql {
  std::string text;
  std::vector<std::pair<std::string, std::string>> params;  ///< name (without ':'), value
};

/// The listing statement of a query: active products matching every filter, in the query's
/// order, starting after its cursor, at most `limit + 1` rows (the extra row says whether
/// there is a next page). Columns: id, seller_id, name, description, price, currency,
/// category, stock, created_at in epoch ms, sort key as text.
BoundSql product_list_sql(const ProductQuery& query);

/// Whether a cursor key is a decimal 64-bit integer (safe to convert).
bool is_integer_key(std::string_view text);

/// An epoch-microseconds cursor key (validated integer text) as whole seconds and the
/// remaining microseconds, both as text: the parameters of an exact timestamp comparison.
std::pair<std::string, std::string> split_micros(std::string_view key);

/// `text` with LIKE's wildcards and the escape character itself escaped by '!'.
std::string escape_like(std::string_view text);

/// One row of products_view as the API reads it.
struct ProductRow {
  std::string id;
  std::string seller_id;
  std::string name;
  std::string description;
  std::int64_t price = 0;  ///< minor units
  std::string currency;
  std::string category;
  std::int64_t stock = 0;
  std::int64_t created_ms = 0;  ///< epoch milliseconds
  std::string sort_key;         ///< the listing's sort key, as text
};

/// The product's wire shape: id, name, description, price, currency, category, seller_id,
/// stock, created_at.
boost::json::object product_to_json(const ProductRow& row);

/// The cursor that continues a listing after `last`.
Cursor cursor_after(const ProductQuery& query, const ProductRow& last);

/// The scope of a listing's cursors (see encode_cursor): its filters, so a cursor read with
/// other filters is refused as another listing's. The order is checked by the cursor's sort.
std::string product_cursor_scope(const ProductQuery& query);

}  // namespace bazaar::edge
