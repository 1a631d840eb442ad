export { deleteScalingPolicy as DELETE } from "@/lib/scaling/console";
