-- wrk: POST the platform's sample body.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"CallbackCommand":"Sns.CallbackPrevFriendResponse","Requester_Account":"id","From_Account":"id","ResponseFriendItem":[{"To_Account":"id1","Remark":"remark1","TagName":"group1","ResponseAction":"Response_Action_AgreeAndAdd"},{"To_Account":"id2","Remark":"remark2","TagName":"group2","ResponseAction":"Response_Action_Reject"}],"EventTime":1631777645424}'
