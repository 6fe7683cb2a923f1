// ES module entry: the same objects as the CommonJS entry.
import friendgate from './index.js'

export const {
  Allow, AppIdError, BodyError, CallbackError, CallbackHandler, CallbackRequest, ConfigurationError, DecisionError,
  ERROR_CATALOGUE, ERROR_CODES, LimitError, QueryError, Reject, Response, SignatureError, TransportError, allow, reject, refusal, processed,
} = friendgate
export default friendgate
