#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "contracts/contracts.hpp"
#include "product_policy.hpp"

namespace bazaar::catalog {

/// Whether a product is listed; deleted products stay as rows so their ids are never reused.
enum class ProductStatus { active, deleted };

/// The stored name of a status: ACTIVE or DELETED.
std::string_view to_string(ProductStatus status);
/// The status stored as `text`, or nullopt.
std::optional<ProductStatus> parse_status(std::string_view text);

/// A product as the catalog owns it; `price` is in minor units, times are RFC 3339 UTC.
struct Product {
  std::string product_id;
  std::string seller_id;
  std::string name;
  std::string description;
  std::int64_t price = 0;
  std::string currency;
  std::string category;
  ProductStatus status = ProductStatus::active;
  std::string created_at;
  std::string updated_at;
};

/// The ownership facts the policy needs about a product.
ProductOwnership ownership_of(const Product& p);

/// ProductCreated: the new product and the stock inventory starts it with.
contracts::catalog::ProductCreatedV1 created_payload(const Product& p, std::int64_t initial_stock);
/// ProductUpdated: the whole new state of the product.
contracts::catalog::ProductUpdatedV1 updated_payload(const Product& p);
/// ProductDeleted.
contracts::catalog::ProductDeletedV1 deleted_payload(const Product& p,
                                                     const std::string& deleted_at);
/// ProductCommandRejected for `command` (a ce_type); `actor_id` is left out when empty.
contracts::catalog::ProductCommandRejectedV1 rejected_payload(std::string_view product_id,
                                                              std::string_view command,
                                                              const Rejection& rejection,
                                                              std::string_view actor_id);

}  // namespace bazaar::catalog
