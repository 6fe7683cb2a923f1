import testing from './testing.js'

export const { sign, signedQuery, sampleBody } = testing
export default testing
