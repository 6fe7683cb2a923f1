'use strict'
/** Helpers for testing an endpoint: sign like the platform, signed query strings, sample bodies (from core). */
const native = require('./addon.js')

/** The Sign for `token` at `requestTime` (Unix seconds). */
const sign = (token, requestTime) => native.sign(token, requestTime)
/** A callback query string; signed when `token` is given (at `requestTime`, default now). */
const signedQuery = (appId, token, requestTime, { platform, clientIp, command } = {}) =>
  native.signedQuery(appId, token, requestTime, platform, clientIp, command)
/** The platform's sample body, or one with `items` items. */
const sampleBody = ({ items, fromAccount } = {}) => native.sampleBody(items, fromAccount)
/** The documentation's friend-request sample, or one with `items` items. */
const sampleAddBody = ({ items, fromAccount } = {}) => native.sampleAddBody(items, fromAccount)

module.exports = { sign, signedQuery, sampleBody, sampleAddBody }
