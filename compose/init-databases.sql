-- One database per service; no service reads another's.
CREATE DATABASE bazaar_edge OWNER bazaar;
CREATE DATABASE bazaar_catalog OWNER bazaar;
CREATE DATABASE bazaar_inventory OWNER bazaar;
CREATE DATABASE bazaar_payment OWNER bazaar;
CREATE DATABASE bazaar_order OWNER bazaar;
CREATE DATABASE bazaar_notification OWNER bazaar;
CREATE DATABASE bazaar_analytics OWNER bazaar;
